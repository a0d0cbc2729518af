// The tasks of the signed-in user, read and written as that user: never with a privileged
// connection, and with no user_id filter anywhere. Row-level security in PostgreSQL decides.
import { headers } from 'next/headers';
import { Pool } from 'pg';
import { auth } from './auth.js';

// Logs in as `authenticator`, which has no rights of its own (NOINHERIT) and may only switch to
// `web`, the role taskauth.grant_api_access gave the tasks to (setup.sql).
const pool = new Pool({ connectionString: process.env.DATABASE_URL, application_name: 'nextjs-tasks' });
// An idle connection the server closes (a restart, a failover) leaves the pool; unheard, its
// error would end the process.
pool.on('error', (e) => console.error(`database: an idle connection was lost (${e.message})`));

// Runs fn(client) in one transaction as the user signed in to this request, and returns what it
// returns; null when nobody is signed in. The token is the one Better Auth's jwt plugin signs for
// the session in the request's cookie; taskauth verifies it (with the keys of Better Auth's jwks
// table), refuses it once its session has ended, and sets the user for this transaction only.
export async function asSignedInUser(fn) {
  let token;
  try {
    ({ token } = await auth.api.getToken({ headers: await headers() }));
  } catch (e) {
    if (e?.statusCode === 401) return null; // no session, or it has ended
    throw e;
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN; SET LOCAL ROLE web');
    await client.query('SELECT taskauth.authenticate($1)', [token]);
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (e) {
    // a connection in an unknown state is closed, not reused
    client.release(await client.query('ROLLBACK').then(() => undefined, (err) => err));
    throw e;
  }
}

export function listTasks() {
  return asSignedInUser(async (db) => (await db.query(
    `SELECT id, title, description, is_completed
       FROM taskauth.tasks ORDER BY created_at, id`)).rows);
}

// user_id is filled in by taskauth: the signed-in user.
export function createTask(title, description) {
  return asSignedInUser((db) => db.query(
    'INSERT INTO taskauth.tasks (title, description) VALUES ($1, $2)', [title, description]));
}

// Another user's task id changes nothing: row-level security hides that row.
export function setCompleted(id, isCompleted) {
  return asSignedInUser((db) => db.query(
    'UPDATE taskauth.tasks SET is_completed = $2 WHERE id = $1', [id, isCompleted]));
}

export function deleteTask(id) {
  return asSignedInUser((db) => db.query('DELETE FROM taskauth.tasks WHERE id = $1', [id]));
}
