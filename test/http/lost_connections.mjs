#!/usr/bin/env node
// The example app outlives the server closing its idle connections (a restart, a failover
// straight to PostgreSQL, pg_terminate_backend): after every connection of the app's database
// is terminated, the same app process still answers, Better Auth signs in and the API lists the
// user's tasks, over new connections. Before, node-postgres's unhandled 'error' event on an idle
// connection of the auth pool ended the process. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, getToken, graphql, newSecret, scenario, signUp, startApp,
} from './lib/app.mjs';

const DB = `ta_http_lost_${process.pid}`;
const EMAIL = 'lost@example.com';
const PASSWORD = 'lost connections password';

await scenario(async (cleanup) => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl, signingSecret: newSecret(), authSecret: newSecret() });
  const app = await startApp({ ...env, PORT: String(port), NODE_ENV: 'development' });
  cleanup(() => app.stop());
  const user = await signUp(appUrl, EMAIL, PASSWORD);
  let token = await getToken(appUrl, user.cookie);
  let r = await graphql(appUrl, 'mutation { createTask(input: {task: {title: "before"}}) { task { id } } }', {}, token);
  tap(r.status === 200 && r.body?.data?.createTask?.task?.id, 'the app serves a signed-in user', r.text);

  const db = await admin('postgres');
  cleanup(() => db.end());
  const pids = (await db.query(`SELECT pid FROM pg_stat_activity
      WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`, [DB])).rows.map((x) => x.pid);
  for (const pid of pids) await db.query('SELECT pg_terminate_backend($1)', [pid]);
  const killed = pids.length;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  tap(killed > 0 && app.exited && (await Promise.race([app.exited, Promise.resolve('running')])) === 'running',
    `the app process lives on after its ${killed} connections were terminated`, app.output());

  const signIn = await fetch(`${appUrl}/api/auth/sign-in/email`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: appUrl },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  tap(signIn.status === 200, 'Better Auth signs in again over a new connection', signIn.status);
  token = await getToken(appUrl, user.cookie);
  r = await graphql(appUrl, '{ allTasks { nodes { title } } }', {}, token);
  tap(r.status === 200 && JSON.stringify(r.body?.data?.allTasks?.nodes) === JSON.stringify([{ title: 'before' }]),
    'and the API lists the user\'s task', r.text);
}, { tap, done });
