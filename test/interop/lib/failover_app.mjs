// The example app (examples/task-app) through a failover, driven by test/interop/failover.py:
// its database is made on the formation's primary (PG* point there), both of its connection
// strings lead through pgbouncer (the address that follows the primary), and one user signs up,
// gets a token and writes a task over HTTP. It prints "ready" and waits for a line on stdin
// (the primary fails meanwhile), then, with the same app process, the same session cookie and
// the same token, polls GraphQL until it answers, writes a second task, reads both back, gets a
// new token with the cookie, and prints one line of JSON with what it saw. Usage:
//   node failover_app.mjs DATABASE PGBOUNCER_PORT
import { createInterface } from 'node:readline';
import { createAppDatabase, freePort, getToken, graphql, newSecret, signUp, startApp, dbUrl } from '../../http/lib/app.mjs';

const [db, bouncerPort] = process.argv.slice(2);
const port = await freePort();
const appUrl = `http://127.0.0.1:${port}`;
const env = await createAppDatabase(db, { appUrl, signingSecret: newSecret(), authSecret: newSecret() });
const through = (url) => { const u = new URL(url); u.host = `127.0.0.1:${bouncerPort}`; u.search = ''; return u.href; };
const app = await startApp({
  ...env,
  PORT: String(port),
  DATABASE_URL: through(env.DATABASE_URL),
  AUTH_DATABASE_URL: through(dbUrl(db)),
  // pgbouncer 1.18 cannot keep prepared statements apart in transaction mode
  POSTGRAPHILE_PREPARED_STATEMENT_CACHE_SIZE: '0',
});
let exited = null;
app.exited.then((code) => { exited = code; });
const out = { exited: null };
try {
  const user = await signUp(app.url, 'failover@example.com', 'failover app password');
  const token = await getToken(app.url, user.cookie);
  const CREATE = 'mutation ($t: String!) { createTask(input: {task: {title: $t}}) { task { id } } }';
  const LIST = '{ currentUserId allTasks { nodes { title } } }';
  const first = await graphql(app.url, CREATE, { t: 'before the failover' }, token);
  out.before = first.body?.data?.createTask ? 'ok' : first.text;
  console.log('ready');
  const lines = createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once('line', resolve));
  // the same token, until the app answers through the new primary
  const t0 = Date.now();
  out.failedRequests = {};
  let listed = null;
  while (Date.now() - t0 < 120000 && exited === null) {
    const r = await graphql(app.url, LIST, {}, token).catch((e) => ({ status: 'fetch', text: e.message }));
    if (r.status === 200 && r.body?.data?.allTasks) { listed = r.body.data; break; }
    const key = `${r.status} ${(r.body?.errors?.[0]?.message || r.text || '').slice(0, 60)}`;
    out.failedRequests[key] = (out.failedRequests[key] || 0) + 1;
    await new Promise((res) => setTimeout(res, 250));
  }
  out.secondsUntilAnswered = (Date.now() - t0) / 1000;
  out.sameUser = listed?.currentUserId === user.id;
  const second = await graphql(app.url, CREATE, { t: 'after the failover' }, token);
  out.after = second.body?.data?.createTask ? 'ok' : second.text;
  const again = await graphql(app.url, LIST, {}, token);
  out.titles = (again.body?.data?.allTasks?.nodes || []).map((n) => n.title).sort();
  // the Better Auth session survives too: the cookie gets a new token, which works
  const fresh = await getToken(app.url, user.cookie).catch((e) => `error: ${e.message}`);
  const withFresh = await graphql(app.url, LIST, {}, fresh);
  out.cookieStillSignedIn = withFresh.body?.data?.currentUserId === user.id;
} catch (e) {
  out.error = String(e?.stack || e);
} finally {
  out.exited = exited;
  await app.stop();
  out.output = app.output().slice(-1500);
  console.log(JSON.stringify(out));
}
