#!/usr/bin/env node
// The example app behind pgbouncer in transaction mode (the Debian package, a pool of 2 server
// connections): 8 concurrent HTTP clients interleave two users' requests, anonymous ones and
// writes for a few seconds; no response may carry the other user's data, since each request's
// identity lives in its own transaction. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dbUrl, dropAppDatabase, freePort, getToken, graphql, newSecret, scenario, signUp,
  startApp,
} from './lib/app.mjs';
import { startPgbouncer } from './lib/pgbouncer.mjs';

const DB = `ta_http_pool_${process.pid}`;
const CLIENTS = 8;
const SECONDS = 4;
const POOL_SIZE = 2;

await scenario(async (cleanup) => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl, signingSecret: newSecret(), authSecret: newSecret() });
  const superuser = process.env.PGUSER || 'postgres';
  const bouncer = await startPgbouncer(DB, {
    authenticator: new URL(env.DATABASE_URL).password,
    [superuser]: process.env.PGPASSWORD,
  }, { poolSize: POOL_SIZE });
  cleanup(() => bouncer.stop());
  const through = (url) => { const u = new URL(url); u.host = `127.0.0.1:${bouncer.port}`; u.search = ''; return u.href; };
  // Both of the app's connections go through pgbouncer.
  const app = await startApp({
    ...env,
    PORT: String(port),
    DATABASE_URL: through(env.DATABASE_URL),
    AUTH_DATABASE_URL: through(dbUrl(DB, superuser, process.env.PGPASSWORD)),
    // pgbouncer 1.18 (Debian 12) cannot keep prepared statements apart in transaction mode
    POSTGRAPHILE_PREPARED_STATEMENT_CACHE_SIZE: '0',
  });
  cleanup(() => app.stop());
  const url = app.url;
  const db = await admin(DB);
  cleanup(() => db.end());

  const users = [];
  for (const email of ['alice@example.com', 'bob@example.com']) {
    const u = await signUp(url, email, `${email} password`);
    users.push({ ...u, email, name: email.split('@')[0], token: await getToken(url, u.cookie) });
  }
  // Two accounts, or the checks below could not tell one user's data from the other's.
  if (new Set(users.map((u) => u.id)).size !== 2) throw new Error(`sign-up gave one id to both users: ${users[0].id}`);
  // Seed three tasks each, through the app.
  for (const u of users)
    for (let i = 0; i < 3; i += 1) {
      const r = await graphql(url, 'mutation ($t: String!) { createTask(input: {task: {title: $t}}) { task { id } } }',
        { t: `${u.name}: seeded ${i}` }, u.token);
      if (!r.body?.data?.createTask) throw new Error(`seeding: ${r.text}`);
    }

  const LIST = '{ currentUserId allTasks { nodes { id title userId } } }';
  const stats = { checked: 0, anonymous: 0, writes: 0, leaks: 0, errors: 0, diag: [] };
  const note = (what, detail) => { if (stats.diag.length < 10) stats.diag.push(`${what}: ${detail}`); };
  let connections = 0;
  const end = Date.now() + SECONDS * 1000;
  // Samples how many server connections the API role holds while the clients run.
  const sampler = (async () => {
    while (Date.now() < end) {
      const n = (await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'authenticator'`)).rows[0].n;
      connections = Math.max(connections, n);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  const client = async (c) => {
    for (let i = 0; Date.now() < end; i += 1) {
      const kind = (c + i) % 7;
      if (kind === 6) {
        // anonymous: nothing at all
        const r = await graphql(url, LIST);
        const d = r.body?.data;
        if (r.status !== 200 || !d || r.body.errors) { stats.errors += 1; note('anonymous', r.text); continue; }
        if (d.currentUserId !== null || d.allTasks.nodes.length !== 0) { stats.leaks += 1; note('anonymous leak', r.text); }
        stats.anonymous += 1;
        continue;
      }
      const u = users[(c + i) % 2];
      if (kind === 5) {
        const r = await graphql(url, 'mutation ($t: String!) { createTask(input: {task: {title: $t}}) { task { userId } } }',
          { t: `${u.name}: client ${c} #${i}` }, u.token);
        const owner = r.body?.data?.createTask?.task?.userId;
        if (!owner) { stats.errors += 1; note('write', r.text); continue; }
        if (owner !== u.id) { stats.leaks += 1; note('write owner', r.text); }
        stats.writes += 1;
        continue;
      }
      const r = await graphql(url, LIST, {}, u.token);
      const d = r.body?.data;
      if (r.status !== 200 || !d || r.body.errors) { stats.errors += 1; note('list', r.text); continue; }
      const foreign = d.allTasks.nodes.filter((t) => t.userId !== u.id || !t.title.startsWith(`${u.name}: `));
      if (d.currentUserId !== u.id || foreign.length > 0 || d.allTasks.nodes.length < 3) {
        stats.leaks += 1;
        note(`list as ${u.name}`, r.text.slice(0, 300));
      }
      stats.checked += 1;
    }
  };
  const started = Date.now();
  await Promise.all([...Array(CLIENTS).keys()].map(client).concat(sampler));
  const elapsed = (Date.now() - started) / 1000;
  console.log(`# ${stats.checked} lists, ${stats.anonymous} anonymous, ${stats.writes} writes in ${elapsed.toFixed(1)} s`);

  tap(stats.errors === 0, `no request failed (${CLIENTS} clients, ${SECONDS} s)`, stats.diag.join('\n'));
  tap(stats.checked > 0 && stats.anonymous > 0 && stats.writes > 0,
    `responses were checked: ${stats.checked} lists, ${stats.anonymous} anonymous, ${stats.writes} writes`);
  tap(stats.leaks === 0, "no response carried the other user's data or identity", stats.diag.join('\n'));
  tap(connections > 0 && connections <= POOL_SIZE,
    `the API's server connections went through pgbouncer's pool (at most ${POOL_SIZE}; saw ${connections})`);
  const wrong = (await db.query(`SELECT count(*)::int AS n FROM taskauth.tasks t JOIN taskauth.users u ON u.id = t.user_id
    WHERE t.title NOT LIKE split_part(u.email, '@', 1) || ': %'`)).rows[0].n;
  const total = (await db.query('SELECT count(*)::int AS n FROM taskauth.tasks')).rows[0].n;
  tap(wrong === 0 && total === 6 + stats.writes, `every stored task belongs to the user who wrote it (${total} tasks)`,
    `${wrong} misplaced, ${total} in all`);
}, { tap, done });
