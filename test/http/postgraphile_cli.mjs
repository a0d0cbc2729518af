#!/usr/bin/env node
// The stock `postgraphile` command (PostGraphile 5 from examples/task-app's lockfile) over schema
// taskauth with no hook: it reads the app's graphile.config.mjs (api.mjs's schemaPreset: the V4
// preset's names, taskauth's tables and functions, grants as the API role, every request as
// web, its Authorization header in request.headers), and taskauth verifies each request's bearer
// token itself on first use (lazy identity). setup.sql gives web no account
// functions (grant_api_access('web', accounts => false): Better Auth owns the app's accounts), so
// this schema has no register or login mutation either; the tokens come from the owner's
// taskauth.register and taskauth.login over SQL. Emits TAP.
import { spawn } from 'node:child_process';
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, APP_DIR, createAppDatabase, dropAppDatabase, freePort, graphql, newSecret, readmeBlocks, scenario,
} from './lib/app.mjs';

const DB = `ta_http_cli_${process.pid}`;

await scenario(async (cleanup) => {
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { signingSecret: newSecret(), authSecret: newSecret() });
  const port = await freePort();
  // The command as the README shows it, with this test's database, address and port.
  const shown = (await readmeBlocks('sh')).find((b) => b.includes('npx postgraphile'));
  const SHOWN_URL = 'postgres://authenticator:change-me@localhost:5432/task_app';
  if (!shown?.includes(SHOWN_URL)) throw new Error(`the README shows no postgraphile command with ${SHOWN_URL}:\n${shown}`);
  const command = `${shown.replace(SHOWN_URL, env.DATABASE_URL).trim()} --host 127.0.0.1 --port ${port}`;
  // its own process group: bash, npx and the server stop together
  const child = spawn('bash', ['-c', command], { cwd: APP_DIR, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    const up = await graphql(url, '{ __typename }').then((r) => r.status === 200, () => false);
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`postgraphile did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  tap(true, `${shown.trim()} starts (graphile.config.mjs)`);

  const reg = await graphql(url, 'mutation { register(input: {email: "alice@example.com", password: "alice-password-1"}) { uuid } }');
  tap(reg.status === 400 && reg.body?.errors?.[0]?.message === 'Cannot query field "register" on type "Mutation".',
    'no register mutation here either: 400, no such field', reg.text);
  const db = await admin(DB);
  cleanup(() => db.end());
  const account = async (email, password) => {
    const { rows: [{ id }] } = await db.query('SELECT taskauth.register($1, $2) AS id', [email, password]);
    const { rows: [{ token }] } = await db.query('SELECT taskauth.login($1, $2) AS token', [email, password]);
    return { id, token };
  };
  const { id: alice, token } = await account('alice@example.com', 'alice-password-1');
  const { token: bobToken } = await account('bob@example.com', 'bob-password-1');

  // Each request's token, in request.headers, verified by taskauth on first use in each
  // transaction (lazy identity): no hook, no authenticate mutation.
  let r = await graphql(url, 'mutation { createTask(input: {task: {title: "Buy milk"}}) { task { id userId } } }', {}, token);
  tap(r.status === 200 && r.body?.data?.createTask?.task?.userId === alice, "with Alice's token, createTask writes a task of hers",
    r.text);
  r = await graphql(url, '{ currentUserId allTasks { nodes { title } } }', {}, token);
  tap(r.body?.data?.currentUserId === alice && JSON.stringify(r.body?.data?.allTasks?.nodes) === '[{"title":"Buy milk"}]',
    'and a query with it lists exactly that task', r.text);
  r = await graphql(url, '{ allTasks { nodes { title } } }', {}, bobToken);
  tap(JSON.stringify(r.body?.data?.allTasks?.nodes) === '[]', "Bob's listing is empty", r.text);
  r = await graphql(url, '{ currentUserId allTasks { nodes { title } } }');
  tap(r.body?.data?.currentUserId === null && JSON.stringify(r.body?.data?.allTasks?.nodes) === '[]',
    'no token: anonymous, no tasks', r.text);
  r = await graphql(url, 'mutation { createTask(input: {task: {title: "forged"}}) { task { id } } }', {}, `${token.slice(0, -2)}AA`);
  const { rows: [{ n }] } = await db.query('SELECT count(*)::int AS n FROM taskauth.tasks');
  tap(r.status === 200 && r.body?.data?.createTask === null && r.body?.errors?.length === 1 && n === 1,
    'a tampered token: a GraphQL error (HTTP 200), nothing written', `${r.status} ${r.text}; ${n} tasks`);
  // The authenticate mutation runs in a transaction of its own: the next field does not see it.
  r = await graphql(url, `mutation ($token: String!) { authenticate(input: {token: $token}) { uuid }
    createTask(input: {task: {title: "after authenticate"}}) { task { id } } }`, { token });
  tap(r.body?.data?.authenticate?.uuid === alice && r.body?.data?.createTask === null,
    'authenticate carries no identity over to the next mutation field (a transaction each)', r.text);
  r = await graphql(url, '{ __type(name: "User") { fields { name } } }');
  const fields = r.body?.data?.__type?.fields?.map((f) => f.name) ?? [];
  tap(fields.includes('email') && !fields.includes('hashedPassword'), 'no hashedPassword in the schema', r.text);
}, { tap, done });
