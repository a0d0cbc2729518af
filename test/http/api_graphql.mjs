#!/usr/bin/env node
// The original design's API tests, over HTTP through the example app's PostGraphile 4 API
// (examples/task-app, started with `node server.mjs`): exactly the schema the API role may use,
// tasks per user under row-level security, and every kind of bad token refused with 401 and
// WWW-Authenticate, naming the reason and never echoing the token. Better Auth owns the app's
// accounts, so the API role has grant_api_access('web', accounts => false) and the schema has no
// register or login mutation (security review 2, finding 5; issuer_accounts.mjs). Alice and Bob
// are therefore taskauth accounts that the owner creates and signs in through SQL
// (taskauth.register and taskauth.login on the test's admin connection), whose tokens the API
// takes like any other: what a service holding the owner's rights could mint. The answers of
// the login mutation to a wrong password and an unknown email (28P01, the same for both),
// tested here before, are no longer part of the app; test/interop and test/pgtap test login
// itself. The README's operations run with a token from Better Auth. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, getToken, graphql, newSecret, readmeBlocks, scenario, signUp,
  startApp,
} from './lib/app.mjs';

const DB = `ta_http_api_${process.pid}`;
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const json = (x) => JSON.stringify(x);

await scenario(async (cleanup) => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const firstKey = newSecret();
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl, signingSecret: firstKey, authSecret: newSecret() });
  const app = await startApp({ ...env, PORT: String(port) });
  cleanup(() => app.stop());
  const url = app.url;
  const db = await admin(DB);
  cleanup(() => db.end());

  // What PostGraphile shows the web role: tasks, its own user row and the functions granted to
  // it, none of taskauth's accounts or sessions.
  const r0 = await graphql(url, `{ __schema { queryType { fields { name } } mutationType { fields { name } } }
    user: __type(name: "User") { fields { name } } }`);
  const names = (t) => r0.body.data.__schema[t].fields.map((f) => f.name).sort();
  const wantQuery = ['allTasks', 'allUsers', 'claims', 'currentUserId', 'node', 'nodeId', 'query', 'task', 'taskById',
    'user', 'userById'];
  const wantMutation = ['authenticate', 'createTask', 'deleteTask', 'deleteTaskById', 'preRequest', 'updateTask',
    'updateTaskById'];
  tap(json(names('queryType')) === json(wantQuery),
    'the GraphQL schema has exactly the queries the web role may run (tasks, users, claims, currentUserId; no sessions)',
    `got ${names('queryType')}`);
  tap(json(names('mutationType')) === json(wantMutation),
    'and exactly its mutations (task writes, authenticate, preRequest; no register, login or other account mutation)',
    `got ${names('mutationType')}`);
  const userFields = r0.body.data.user.fields.map((f) => f.name).sort();
  tap(json(userFields) === json(['createdAt', 'email', 'id', 'nodeId', 'tasksByUserId', 'updatedAt']),
    'User has no hashedPassword field and no sessions', `got ${userFields}`);

  // Accounts through taskauth's own functions, run by the owner (the API offers none).
  const register = async (email) =>
    (await db.query('SELECT taskauth.register($1, $2) AS id', [email, `${email} password`])).rows[0].id;
  const login = async (email) =>
    (await db.query('SELECT taskauth.login($1, $2) AS t', [email, `${email} password`])).rows[0].t;
  const alice = await register('alice@example.com');
  const bob = await register('bob@example.com');
  tap(/^[0-9a-f-]{36}$/.test(alice) && /^[0-9a-f-]{36}$/.test(bob) && alice !== bob,
    'the owner registers two users (taskauth.register)', `${alice} ${bob}`);
  const aliceToken = await login('alice@example.com');
  const bobToken = await login('bob@example.com');
  const typ = (t) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url')).typ;
  tap(typ(aliceToken) === 'at+jwt' && typ(bobToken) === 'at+jwt',
    'and signs them in (taskauth.login): access tokens typed at+jwt', `${aliceToken} ${bobToken}`);

  // No token: anonymous, no tasks, and writes refused.
  const list = async (token) => {
    const r = await graphql(url, '{ allTasks(orderBy: TITLE_ASC) { nodes { id title userId } } }', {}, token);
    return r.body?.data?.allTasks?.nodes ?? r.text;
  };
  const create = (token, task) => graphql(url,
    'mutation ($t: TaskInput!) { createTask(input: {task: $t}) { task { id userId title } } }', { t: task }, token);
  let r = await create(null, { title: 'anonymous task' });
  tap(r.status === 200 && r.body.data.createTask === null && r.body.errors?.[0]?.errcode === '42501',
    'no token: createTask is refused by row-level security (42501)', r.text);

  // A created task carries the caller's user_id, whatever the request says.
  r = await create(aliceToken, { title: 'alice: buy milk' });
  const aliceTask = r.body.data.createTask.task;
  tap(aliceTask.userId === alice, 'Alice creates a task without a userId; it is hers', r.text);
  r = await create(aliceToken, { title: 'alice: write tests', userId: alice });
  tap(r.body.data.createTask.task.userId === alice, 'Alice creates a task naming herself as owner', r.text);
  r = await create(aliceToken, { title: 'planted on bob', userId: bob });
  tap(r.body.data.createTask === null && r.body.errors?.[0]?.errcode === '42501',
    "Alice creating a task with Bob's userId is refused (42501)", r.text);
  r = await create(bobToken, { title: 'bob: fix bike', description: 'the back tyre' });
  const bobTask = r.body.data.createTask.task;
  tap(bobTask.userId === bob, 'Bob creates a task; it is his', r.text);

  // Each user sees only their own tasks; no token sees none.
  let seen = await list(aliceToken);
  tap(json(seen.map((t) => t.title)) === json(['alice: buy milk', 'alice: write tests']) &&
      seen.every((t) => t.userId === alice), 'Alice lists exactly her two tasks', json(seen));
  seen = await list(bobToken);
  tap(json(seen.map((t) => t.title)) === json(['bob: fix bike']), 'Bob lists exactly his task', json(seen));
  seen = await list(null);
  tap(Array.isArray(seen) && seen.length === 0, 'no token: allTasks is empty', json(seen));
  r = await graphql(url, '{ allUsers { nodes { id email } } }', {}, aliceToken);
  tap(json(r.body.data.allUsers.nodes) === json([{ id: alice, email: 'alice@example.com' }]),
    'Alice sees only her own user row', r.text);

  // Another user's task by id: the same answer as a task that never existed.
  const byId = (token, id) => graphql(url, 'query ($id: UUID!) { taskById(id: $id) { id title } }', { id }, token);
  const never = '00000000-0000-4000-8000-000000000000';
  const other = await byId(aliceToken, bobTask.id);
  const missing = await byId(aliceToken, never);
  tap(other.status === 200 && json(other.body) === json({ data: { taskById: null } }) &&
      json(other.body) === json(missing.body), "taskById of Bob's task as Alice: null, as for a task that never existed",
  `${other.text}\n${missing.text}`);
  const update = (token, id, patch) => graphql(url,
    'mutation ($id: UUID!, $p: TaskPatch!) { updateTaskById(input: {id: $id, taskPatch: $p}) { task { id title isCompleted userId } } }',
    { id, p: patch }, token);
  const upOther = await update(aliceToken, bobTask.id, { title: 'stolen' });
  const upNever = await update(aliceToken, never, { title: 'stolen' });
  tap(upOther.body.data.updateTaskById === null && json(upOther.body) === json(upNever.body),
    "updateTaskById of Bob's task as Alice: refused exactly as for a task that never existed",
    `${upOther.text}\n${upNever.text}`);
  const del = (token, id) => graphql(url,
    'mutation ($id: UUID!) { deleteTaskById(input: {id: $id}) { deletedTaskId } }', { id }, token);
  const delOther = await del(aliceToken, bobTask.id);
  const delNever = await del(aliceToken, never);
  tap(delOther.body.data.deleteTaskById === null && json(delOther.body) === json(delNever.body),
    "deleteTaskById of Bob's task as Alice: refused exactly as for a task that never existed",
    `${delOther.text}\n${delNever.text}`);
  seen = await list(bobToken);
  tap(seen.length === 1 && seen[0].title === 'bob: fix bike', "Bob's task is untouched", json(seen));

  // Editing and completing one's own task; moving it to another user is refused.
  r = await update(aliceToken, aliceTask.id, { title: 'alice: buy oat milk', description: '2 litres', isCompleted: true });
  const t = r.body.data.updateTaskById?.task;
  tap(t?.title === 'alice: buy oat milk' && t?.isCompleted === true, 'Alice edits and completes her task', r.text);
  r = await update(aliceToken, aliceTask.id, { isCompleted: false });
  tap(r.body.data.updateTaskById?.task?.isCompleted === false, 'and marks it not completed again', r.text);
  r = await update(aliceToken, aliceTask.id, { userId: bob });
  tap(r.body.data.updateTaskById === null && r.body.errors?.[0]?.errcode === '42501',
    'moving her task to Bob is refused (42501)', r.text);
  r = await del(aliceToken, aliceTask.id);
  tap(r.body.data.deleteTaskById?.deletedTaskId !== undefined, 'Alice deletes her task', r.text);
  seen = await list(aliceToken);
  tap(json(seen.map((x) => x.title)) === json(['alice: write tests']), 'one task of hers is left', json(seen));

  // Bad tokens: 401, WWW-Authenticate, the reason in the body, never the token.
  const claims = JSON.parse(Buffer.from(aliceToken.split('.')[1], 'base64url'));
  const now = Math.floor(Date.now() / 1000);
  const sign = async (payload, secret) =>
    (await db.query('SELECT taskauth.jwt_sign($1::jsonb, $2) AS t', [json(payload), secret])).rows[0].t;
  const [h, , s] = aliceToken.split('.');
  const bad = {
    tampered: [`${h}.${b64({ ...claims, sub: bob })}.${s}`, 'jwt signature does not match'],
    expired: [await sign({ ...claims, iat: now - 7200, exp: now - 3600 }, firstKey), 'jwt expired'],
    'wrongly signed': [await sign({ ...claims, iat: now, exp: now + 600 }, newSecret()), 'jwt signature does not match'],
    'alg none': [`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iat: now, exp: now + 600 })}.`,
      'jwt is malformed'],
    'alg none with a signature': [`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iat: now, exp: now + 600 })}.${s}`,
      'jwt algorithm none is not accepted'],
    malformed: ['not-a-token', 'jwt is malformed'],
    'retired-key': [aliceToken, 'jwt key id is not known'],
  };
  // Retiring the key Alice's token was signed with (the retired-key case, checked last):
  // login signs with a new one from then on.
  const retire = async () => {
    await db.query('SELECT taskauth.add_signing_key($1)', [newSecret()]);
    const { kid } = JSON.parse(Buffer.from(h, 'base64url'));
    await db.query('SELECT taskauth.retire_signing_key($1)', [kid]);
  };
  for (const [what, [token, reason]] of Object.entries(bad)) {
    if (what === 'retired-key') await retire();
    r = await graphql(url, '{ allTasks { nodes { id title } } }', {}, token);
    const message = r.body?.errors?.[0]?.message ?? '';
    const ok = r.status === 401 && r.headers.get('www-authenticate') === 'Bearer error="invalid_token"' &&
      message === reason && r.text === json({ errors: [{ message: reason, extensions: { code: 'PGRST301' } }] }) &&
      r.body?.data === undefined && !r.text.includes(token) && !r.text.includes(token.split('.')[2] || token);
    tap(ok, `${what} token: 401, WWW-Authenticate: Bearer error="invalid_token", "${message}", token not echoed`,
      `${r.status} ${r.headers.get('www-authenticate')} ${r.text}`);
  }
  const fresh = await login('alice@example.com');
  seen = await list(fresh);
  tap(json(seen.map((x) => x.title)) === json(['alice: write tests']),
    "a token from the new key works at once; the server's own key rotated without a restart", json(seen));
  r = await graphql(url, 'mutation { x: createTask(input: {task: {title: "never"}}) { task { id } } }', {}, aliceToken);
  tap(r.status === 401 && (await list(fresh)).length === 1, 'a refused token writes nothing', r.text);

  // The operations examples/task-app/README.md shows, one a line, with the token of a user who
  // signed up in Better Auth, $id being a task created by the README's createTask.
  const block = (await readmeBlocks('graphql')).find((b) => b.includes('allTasks(orderBy: CREATED_AT_ASC)'));
  const ops = block.split('\n').filter((l) => /^(query|mutation) /.test(l)).map((l) => l.replace(/\s+#.*$/, ''));
  tap(ops.length === 5 && !/\b(register|login|signIn)\(/.test(block), 'the README shows five task operations, no account one',
    block);
  const carol = await signUp(url, 'carol@example.com', 'carol-password-1');
  const carolToken = await getToken(url, carol.cookie);
  const made = await graphql(url, ops.find((o) => o.includes('createTask')), {}, carolToken);
  const id = made.body?.data?.createTask?.task?.id;
  for (const op of ops) {
    r = await graphql(url, op, op.includes('$id') ? { id } : {}, carolToken);
    tap(r.status === 200 && !r.body.errors && Object.values(r.body.data).every((v) => v !== null),
      `README operation runs: ${op.slice(0, 70)}`, r.text);
  }
}, { tap, done });
