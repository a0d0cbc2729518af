#!/usr/bin/env node
// Correctness before speed: `node smoke.mjs TOKENS_FILE URL_A URL_B URL_C` (PG* environment
// for the database). For a few of the benchmark's users, each target must answer "list my
// tasks" with exactly that user's tasks, the ones the database holds for them (100 here):
// (a) the FastAPI backend, GET URL_A/api/tasks with the token;
// (b) PostGraphile + taskauth, POST URL_B/graphql allTasks with the token;
// (c) the floor, POST URL_C/graphql allTasks(condition: {userId}) with no token.
// Also: (a) answers 401 without a token or with a bad one; (b) answers 401 to a bad token and
// shows no task to a request without one. Exits 1 on the first difference.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../examples/task-app/package.json', import.meta.url));
const pg = require('pg');

const [tokensFile, a, b, c] = process.argv.slice(2);
const users = readFileSync(tokensFile, 'utf8').trim().split('\n').map((l) => l.split(' '));
const LIST = '{ allTasks { nodes { id title isCompleted } } }';
const FLOOR = 'query($u: UUID!) { allTasks(condition: {userId: $u}) { nodes { id title isCompleted } } }';

function fail(msg) {
  console.error(`smoke check: ${msg}`);
  process.exit(1);
}

async function gql(url, query, variables, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: r.status, body: await r.json() };
}

const sameIds = (got, want) =>
  got.length === want.length && [...got].sort().join() === [...want].sort().join();

const db = new pg.Client();
await db.connect();
try {
  for (const [uid, token] of [users[0], users[Math.floor(users.length / 2)], users.at(-1)]) {
    const want = (await db.query('SELECT id::text FROM taskauth.tasks WHERE user_id = $1', [uid]))
      .rows.map((r) => r.id);
    if (want.length !== 100) fail(`user ${uid} has ${want.length} tasks in the database, not 100`);

    const ra = await fetch(`${a}/api/tasks`, { headers: { Authorization: `Bearer ${token}` } });
    const ta = await ra.json();
    if (ra.status !== 200 || !Array.isArray(ta)) fail(`(a) answered ${ra.status}`);
    if (!ta.every((t) => t.user_id === uid)) fail(`(a) returned another user's task`);
    if (!sameIds(ta.map((t) => t.id), want)) fail(`(a) returned ${ta.length} tasks, not the user's ${want.length}`);

    const rb = await gql(b, LIST, undefined, token);
    const tb = rb.body.data?.allTasks?.nodes;
    if (rb.status !== 200 || !tb) fail(`(b) answered ${rb.status} ${JSON.stringify(rb.body).slice(0, 200)}`);
    if (!sameIds(tb.map((t) => t.id), want)) fail(`(b) returned ${tb.length} tasks, not the user's ${want.length}`);

    const rc = await gql(c, FLOOR, { u: uid });
    const tc = rc.body.data?.allTasks?.nodes;
    if (rc.status !== 200 || !tc) fail(`(c) answered ${rc.status} ${JSON.stringify(rc.body).slice(0, 200)}`);
    if (!sameIds(tc.map((t) => t.id), want)) fail(`(c) returned ${tc.length} tasks, not the user's ${want.length}`);
  }
  const bad = users[0][1].slice(0, -2) + (users[0][1].endsWith('AA') ? 'BB' : 'AA');
  const none = await fetch(`${a}/api/tasks`);
  if (none.status !== 401) fail(`(a) answered ${none.status} without a token, not 401`);
  const wrong = await fetch(`${a}/api/tasks`, { headers: { Authorization: `Bearer ${bad}` } });
  if (wrong.status !== 401) fail(`(a) answered ${wrong.status} to a tampered token, not 401`);
  const anon = await gql(b, LIST);
  if (anon.status !== 200 || anon.body.data?.allTasks?.nodes?.length !== 0)
    fail(`(b) without a token: ${anon.status} ${JSON.stringify(anon.body).slice(0, 200)}`);
  const refused = await gql(b, LIST, undefined, bad);
  if (refused.status !== 401) fail(`(b) answered ${refused.status} to a tampered token, not 401`);
  console.error('smoke check: each target returns exactly the token owner\'s 100 tasks; bad or missing tokens are refused');
} finally {
  await db.end();
}
