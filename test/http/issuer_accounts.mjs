#!/usr/bin/env node
// Better Auth owns the accounts, so the API creates and claims none (security review 2, finding
// 5, email squatting). In both of the app's setups (Better Auth's key pairs read from its jwks
// table; HS256 with a key derived from BETTER_AUTH_SECRET) setup.sql gives the API role
// grant_api_access('web', accounts => false): the GraphQL schema has no register, login, signIn,
// refresh, logout, logoutEverywhere or changePassword mutation and no sessions, an attacker's
// register of dan@example.com posted to /graphql is refused and creates no account, and Dan then
// signs up in Better Auth and creates and lists his tasks. With the one-argument
// grant_api_access('web') of before, the attacker's account took Dan's email and every request
// of Dan's failed ("email of the external user belongs to another account" in the jwks setup,
// 23503 at createTask in the HS256 one). Last, the lines of setup.sql that the app's README shows
// for a database set up before take the account functions back from web. Emits TAP.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, APP_DIR, createAppDatabase, dropAppDatabase, freePort, getToken, graphql, newSecret, readmeBlocks,
  scenario, signUp, startApp,
} from './lib/app.mjs';

const run = promisify(execFile);
const json = (x) => JSON.stringify(x);
// What an external issuer's app must not offer: taskauth's own accounts and sessions.
const ACCOUNT_MUTATIONS = ['register', 'login', 'signIn', 'refresh', 'logout', 'logoutEverywhere', 'changePassword'];
const ACCOUNT_FUNCTIONS = ['register(text,text)', 'login(text,text)', 'sign_in(text,text)', 'refresh(text)', 'logout()',
  'logout_everywhere()', 'change_password(text,text)'];
const DAN = 'dan@example.com';

// f, run at most once (at the end of its setup, or by the scenario's cleanup when interrupted).
const once = (f) => { let p; return () => (p ??= f()); };

// What web may run and read in database db, as the owner sees it.
async function webPrivileges(db) {
  const { rows } = await db.query(
    `SELECT f, has_function_privilege('web', 'taskauth.' || f, 'EXECUTE') AS may
       FROM unnest($1::text[]) AS f`, [ACCOUNT_FUNCTIONS]);
  const tables = (await db.query(
    `SELECT has_table_privilege('web', 'taskauth.sessions', 'SELECT') AS sessions,
            has_table_privilege('web', 'taskauth.tasks', 'SELECT, INSERT, UPDATE, DELETE') AS tasks,
            has_function_privilege('web', 'taskauth.pre_request()', 'EXECUTE') AS pre_request`)).rows[0];
  return { functions: rows.filter((r) => r.may).map((r) => r.f), ...tables };
}

// One setup: its database, the app, the attack and Dan's sign-up; everything stopped and dropped
// at the end (the roles are the cluster's, so the next setup starts after this one is gone).
async function check(setup, cleanup) {
  const label = `[${setup}]`;
  const DB = `ta_http_acc_${setup}_${process.pid}`;
  const port = await freePort();
  const secret = newSecret();
  const stops = [];
  const stopAll = once(async () => { for (const f of stops.reverse()) await f(); });
  cleanup(stopAll);
  try {
    stops.push(() => dropAppDatabase(DB));
    const env = await createAppDatabase(DB, setup === 'jwks'
      ? { appUrl: `http://127.0.0.1:${port}`, signingSecret: newSecret(), authSecret: secret }
      : { hs256: true, authSecret: secret });
    const app = await startApp({ ...env, PORT: String(port), ...(setup === 'hs256' && { AUTH_JWT_SIGNING: 'hs256' }) });
    stops.push(() => app.stop());
    const url = app.url;
    const db = await admin(DB);
    stops.push(() => db.end());

    // The schema PostGraphile built for web (ignoreRBAC: false): no account or session operation.
    let r = await graphql(url, '{ __schema { queryType { fields { name } } mutationType { fields { name } } } }');
    const mutations = r.body?.data?.__schema?.mutationType?.fields?.map((f) => f.name) ?? [];
    const queries = r.body?.data?.__schema?.queryType?.fields?.map((f) => f.name) ?? [];
    tap(mutations.includes('createTask') && !ACCOUNT_MUTATIONS.some((m) => mutations.includes(m)),
      `${label} the GraphQL schema (introspection) has createTask but no ${ACCOUNT_MUTATIONS.join(', ')} mutation`,
      json(mutations));
    tap(queries.includes('allTasks') && !queries.some((q) => /session/i.test(q)),
      `${label} and no sessions to query`, json(queries));
    const granted = await webPrivileges(db);
    tap(json(granted) === json({ functions: [], sessions: false, tasks: true, pre_request: true }),
      `${label} setup.sql gave web tasks and pre_request but none of taskauth's account functions, nor sessions`,
      json(granted));

    // The attacker takes Dan's email before Dan signs up: each account mutation is refused.
    const attempts = {
      register: `mutation { register(input: {email: "${DAN}", password: "squatter-password-1"}) { uuid } }`,
      login: `mutation { login(input: {email: "${DAN}", password: "squatter-password-1"}) { string } }`,
      signIn: `mutation { signIn(input: {email: "${DAN}", password: "squatter-password-1"}) { results { accessToken } } }`,
    };
    for (const [name, op] of Object.entries(attempts)) {
      r = await graphql(url, op);
      tap(r.status === 400 && r.body?.data === undefined &&
          r.body?.errors?.[0]?.message === `Cannot query field "${name}" on type "Mutation".`,
      `${label} a POST of a ${name} mutation for ${DAN} is refused: 400, no such field`, `${r.status} ${r.text}`);
    }
    let rows = (await db.query('SELECT id FROM taskauth.users WHERE email = $1', [DAN])).rows;
    tap(rows.length === 0, `${label} and created no taskauth account with his email`, json(rows));

    // Dan signs up in Better Auth and uses the API as anyone else does.
    const dan = await signUp(url, DAN, 'dan-better-auth-password');
    const token = await getToken(url, dan.cookie);
    r = await graphql(url, 'mutation { createTask(input: {task: {title: "dan: water plants"}}) { task { userId } } }',
      {}, token);
    tap(r.status === 200 && !r.body?.errors && r.body?.data?.createTask?.task?.userId === dan.id,
      `${label} Dan signs up in Better Auth afterwards and creates a task; it is his`, r.text);
    r = await graphql(url, '{ allTasks { nodes { title userId } } }', {}, token);
    tap(json(r.body?.data?.allTasks?.nodes) === json([{ title: 'dan: water plants', userId: dan.id }]),
      `${label} and lists it`, r.text);
    rows = (await db.query('SELECT id FROM taskauth.users WHERE email = $1', [DAN])).rows;
    tap(json(rows) === json([{ id: dan.id }]), `${label} his one taskauth.users row has his Better Auth id`, json(rows));

    if (setup === 'jwks') {
      // A database set up by an earlier setup.sql, whose grant_api_access('web') included the
      // accounts: the lines the README shows take them back.
      await db.query("SELECT taskauth.grant_api_access('web')");
      const before = await webPrivileges(db);
      const block = (await readmeBlocks('sql')).find((b) => b.includes('revoke_api_access'));
      if (block) await run('psql', ['-d', DB, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', block], { cwd: APP_DIR });
      const after = await webPrivileges(db);
      tap(block !== undefined && before.functions.length === ACCOUNT_FUNCTIONS.length && before.sessions &&
          json(after) === json({ functions: [], sessions: false, tasks: true, pre_request: true }),
      "a database granted as before: the README's lines of setup.sql take the account functions and sessions back from web",
      `${json(before)}\n${json(after)}\n${block}`);
    }
  } finally {
    await stopAll();
  }
}

await scenario(async (cleanup) => {
  await check('jwks', cleanup);
  await check('hs256', cleanup);
}, { tap, done });
