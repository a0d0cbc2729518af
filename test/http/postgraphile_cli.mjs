#!/usr/bin/env node
// The stock `postgraphile` command (PostGraphile 4 from examples/task-app's lockfile) over
// schema taskauth with no Node code of ours: --include-extension-resources shows taskauth's
// tables and functions, --default-role web runs every request as the API role, and a client
// authenticates with the authenticate mutation as the first field of each mutation request.
// setup.sql gives web no account functions (grant_api_access('web', accounts => false): Better
// Auth owns the app's accounts), so this schema has no register or login mutation either; the
// tokens come from the owner's taskauth.register and taskauth.login over SQL, where this file
// used to call those mutations. Emits TAP.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
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
  const shown = (await readmeBlocks('sh')).find((b) => b.startsWith('npx postgraphile '));
  const words = shown.replace(/\\\n/g, ' ').trim().split(/\s+/).slice(2);
  words[words.indexOf('-c') + 1] = env.DATABASE_URL;
  const args = [...words, '--host', '127.0.0.1', '--port', String(port), '--disable-query-log'];
  const child = spawn(join(APP_DIR, 'node_modules/.bin/postgraphile'), args, { cwd: APP_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
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
  tap(words.includes('--include-extension-resources'), `postgraphile ${words.slice(2).join(' ')} starts`);

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

  // The README's request: authenticate first, then the write, then a read through the payload.
  const request = (await readmeBlocks('graphql')).find((b) => b.includes('listing: authenticate'));
  let r = await graphql(url, request, { token });
  const d = r.body?.data;
  tap(d?.authenticate?.uuid === alice && typeof d?.createTask?.task?.id === 'string' &&
      JSON.stringify(d?.listing?.query?.allTasks?.nodes) === JSON.stringify([{ title: 'Buy milk' }]),
  "one mutation request: authenticate, createTask, then the listing shows Alice's task", r.text);
  r = await graphql(url, 'mutation ($token: String!) { authenticate(input: {token: $token}) { query { allTasks { nodes { title } } } } }',
    { token: bobToken });
  tap(JSON.stringify(r.body?.data?.authenticate?.query?.allTasks?.nodes) === '[]', "Bob's listing is empty", r.text);
  r = await graphql(url, '{ allTasks { nodes { title } } }');
  tap(JSON.stringify(r.body?.data?.allTasks?.nodes) === '[]', 'a plain query carries no identity and sees no tasks', r.text);
  r = await graphql(url, request, { token: `${token.slice(0, -2)}AA` });
  tap(r.status === 200 && r.body?.data?.authenticate === null && r.body?.errors?.[0]?.message === 'jwt signature does not match' &&
      r.body?.data?.createTask === null, 'a tampered token: authenticate fails and nothing is written', r.text);
  r = await graphql(url, '{ __type(name: "User") { fields { name } } }');
  const fields = r.body?.data?.__type?.fields?.map((f) => f.name) ?? [];
  tap(fields.includes('email') && !fields.includes('hashedPassword'), 'no hashedPassword in the schema', r.text);
}, { tap, done });
