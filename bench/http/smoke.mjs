#!/usr/bin/env node
// Correctness before speed: `node smoke.mjs TOKENS_FILE KIND=URL...` (PG* environment for the
// database). For a few of the benchmark's users, each target must answer "list my tasks" with
// exactly that user's tasks, the ones the database holds for them (100 here). KIND says how
// the target is asked, as wrk.lua asks it:
//   rest     GET URL with the token (the FastAPI backend): also 401 without a token or with a
//            bad one;
//   graphql  POST URL allTasks with the token (taskauth verifies it): also 401 for a bad token,
//            no task for a request without one;
//   floor    POST URL allTasks(condition: {userId}) with no token (authentication off);
//   lazy     as graphql, but a bad token is a GraphQL error with no tasks (any HTTP status).
// Exits 1 on the first difference.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../examples/task-app/package.json', import.meta.url));
const pg = require('pg');

const [tokensFile, ...targets] = process.argv.slice(2);
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
  const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: r.status, body: await r.json() };
}

const sameIds = (got, want) =>
  got.length === want.length && [...got].sort().join() === [...want].sort().join();

async function check(kind, url, uid, token, want) {
  let got;
  if (kind === 'rest') {
    const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    got = await r.json();
    if (r.status !== 200 || !Array.isArray(got)) fail(`${url} answered ${r.status}`);
    if (!got.every((t) => t.user_id === uid)) fail(`${url} returned another user's task`);
  } else {
    const r = kind === 'floor' ? await gql(url, FLOOR, { u: uid }) : await gql(url, LIST, undefined, token);
    got = r.body.data?.allTasks?.nodes;
    if (r.status !== 200 || !got) fail(`${url} answered ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  }
  if (!sameIds(got.map((t) => t.id), want)) fail(`${url} returned ${got.length} tasks, not the user's ${want.length}`);
}

async function refusals(kind, url, bad) {
  if (kind === 'rest') {
    const none = await fetch(url);
    if (none.status !== 401) fail(`${url} answered ${none.status} without a token, not 401`);
    const wrong = await fetch(url, { headers: { Authorization: `Bearer ${bad}` } });
    if (wrong.status !== 401) fail(`${url} answered ${wrong.status} to a tampered token, not 401`);
  } else if (kind === 'graphql' || kind === 'lazy') {
    const anon = await gql(url, LIST);
    if (anon.status !== 200 || anon.body.data?.allTasks?.nodes?.length !== 0)
      fail(`${url} without a token: ${anon.status} ${JSON.stringify(anon.body).slice(0, 200)}`);
    const refused = await gql(url, LIST, undefined, bad);
    if (kind === 'graphql' && refused.status !== 401)
      fail(`${url} answered ${refused.status} to a tampered token, not 401`);
    if (kind === 'lazy' && !(refused.body.errors?.length > 0 && !refused.body.data?.allTasks?.nodes?.length))
      fail(`${url} did not refuse a tampered token: ${JSON.stringify(refused.body).slice(0, 200)}`);
  }
}

const db = new pg.Client();
await db.connect();
try {
  for (const [uid, token] of [users[0], users[Math.floor(users.length / 2)], users.at(-1)]) {
    const want = (await db.query('SELECT id::text FROM taskauth.tasks WHERE user_id = $1', [uid]))
      .rows.map((r) => r.id);
    if (want.length !== 100) fail(`user ${uid} has ${want.length} tasks in the database, not 100`);
    for (const t of targets) {
      const [kind, url] = t.split(/=(.*)/s);
      await check(kind, url, uid, token, want);
    }
  }
  const bad = users[0][1].slice(0, -2) + (users[0][1].endsWith('AA') ? 'BB' : 'AA');
  for (const t of targets) await refusals(...t.split(/=(.*)/s).slice(0, 2), bad);
  console.error(`smoke check (${targets.length} targets): each returns exactly the token owner's 100 tasks; bad or missing tokens are refused`);
} finally {
  await db.end();
}
