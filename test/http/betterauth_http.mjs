#!/usr/bin/env node
// Better Auth over HTTP in the example app: two users sign up at /api/auth/sign-up/email, take
// JWTs from /api/auth/token and use them at /graphql, where taskauth verifies them with the keys
// of Better Auth's own jwks table; each sees only their own tasks. Better Auth rotates its key
// while the app runs (AUTH_KEY_ROTATION_SECONDS) and the new key's tokens work at once, the old
// key's too, with no restart. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, getToken, graphql, newSecret, scenario, signUp, startApp,
} from './lib/app.mjs';

const DB = `ta_http_ba_${process.pid}`;
const ROTATION = 3; // seconds
const json = (x) => JSON.stringify(x);
const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));
const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));

await scenario(async (cleanup) => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl, signingSecret: newSecret(), authSecret: newSecret() });
  const app = await startApp({ ...env, PORT: String(port), AUTH_KEY_ROTATION_SECONDS: String(ROTATION) });
  cleanup(() => app.stop());
  const url = app.url;
  tap(url === appUrl, `the app listens on ${appUrl}`, url);
  const db = await admin(DB);
  cleanup(() => db.end());

  const alice = await signUp(url, 'alice@example.com', 'correct horse battery staple');
  const bob = await signUp(url, 'bob@example.com', 'hunter2 hunter2 hunter2');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  tap(uuid.test(alice.id) && uuid.test(bob.id) && alice.cookie.includes('session_token'),
    'two users sign up over HTTP; ids are uuids and a session cookie is set', json([alice, bob]));

  let aliceJwt = await getToken(url, alice.cookie);
  const bobJwt = await getToken(url, bob.cookie);
  const firstKid = header(aliceJwt).kid;
  let r;
  tap(header(aliceJwt).alg === 'EdDSA' && payload(aliceJwt).sub === alice.id &&
      payload(aliceJwt).iss === appUrl && payload(aliceJwt).aud === appUrl,
  'GET /api/auth/token gives an EdDSA JWT: sub is the user id, iss and aud the app URL', json(payload(aliceJwt)));
  r = await fetch(`${url}/demo-accounts.json`);
  tap(r.status === 404, 'an app started without DEMO_ACCOUNTS has none for the page to show (404)', r.status);
  const jwks = await (await fetch(`${url}/api/auth/jwks`)).json();
  tap(jwks.keys.some((k) => k.kid === firstKid && k.d === undefined), 'its key is published at /api/auth/jwks, public part only',
    json(jwks));

  const create = (token, title) => graphql(url,
    'mutation ($t: String!) { createTask(input: {task: {title: $t}}) { task { userId } } }', { t: title }, token);
  const titles = async (token) => {
    const r = await graphql(url, '{ allTasks(orderBy: TITLE_ASC) { nodes { title userId } } }', {}, token);
    return r.body?.data?.allTasks?.nodes.map((t) => t.title) ?? r.text;
  };
  r = await create(aliceJwt, 'alice: buy milk');
  tap(r.body?.data?.createTask?.task?.userId === alice.id,
    "Alice's Better Auth token creates a task at /graphql; it is hers", r.text);
  r = await create(bobJwt, 'bob: fix bike');
  tap(r.body?.data?.createTask?.task?.userId === bob.id, "Bob's creates one; it is his", r.text);
  await create(aliceJwt, 'alice: call mum');
  tap(json(await titles(aliceJwt)) === json(['alice: buy milk', 'alice: call mum']), 'Alice sees only her tasks');
  tap(json(await titles(bobJwt)) === json(['bob: fix bike']), 'Bob sees only his task');
  const rows = (await db.query('SELECT id, email FROM taskauth.users ORDER BY email')).rows;
  tap(json(rows) === json([{ id: alice.id, email: 'alice@example.com' }, { id: bob.id, email: 'bob@example.com' }]),
    'taskauth created both users on their first request (provision_users)', json(rows));

  // Sign in again; a wrong password is refused.
  const signIn = (password) => fetch(`${url}/api/auth/sign-in/email`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email: 'alice@example.com', password }),
  });
  r = await signIn('not her password');
  tap(r.status === 401, 'sign-in with a wrong password: 401', r.status);
  const signInFrom = (origin) => fetch(`${url}/api/auth/sign-in/email`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ email: 'alice@example.com', password: 'correct horse battery staple' }),
  });
  r = await signInFrom('http://evil.example');
  tap(r.status === 403, 'a sign-in from another origin is refused: 403', r.status);
  r = await signInFrom(`http://127.0.0.1:${port + 1}`);
  tap(r.status === 403, 'so is one from another port of 127.0.0.1', r.status);
  r = await signInFrom(`http://localhost:${port}`);
  tap(r.status === 200, 'one from the same app at http://localhost (the other loopback name) is taken', r.status);
  r = await signIn('correct horse battery staple');
  const cookie2 = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  tap(r.status === 200 && cookie2.includes('session_token'), 'sign-in with the right password: a new session', r.status);

  // Better Auth rotates its key: once the key is older than the interval, the next token
  // request mints a new one into its jwks table.
  await new Promise((res) => setTimeout(res, ROTATION * 1000 + 300));
  const rotated = await getToken(url, cookie2);
  const keys = (await db.query('SELECT id FROM public.jwks')).rows.map((k) => k.id);
  tap(header(rotated).kid !== firstKid && keys.length === 2 && keys.includes(header(rotated).kid),
    'Better Auth rotated its key while running: a new kid, both keys in its jwks table', json(keys));
  tap(json(await titles(rotated)) === json(['alice: buy milk', 'alice: call mum']),
    "the new key's token works at once, without restarting anything");
  r = await create(rotated, 'alice: after rotation');
  tap(r.body?.data?.createTask?.task?.userId === alice.id, 'and writes as Alice', r.text);
  tap(json(await titles(bobJwt)) === json(['bob: fix bike']), "the old key's tokens still work (grace period)");
  tap(json(await titles(await getToken(url, bob.cookie))) === json(['bob: fix bike']), "Bob's new token too");

  // A token of Alice's with a sub changed to Bob's is refused.
  const [h, , s] = rotated.split('.');
  const forged = `${h}.${Buffer.from(json({ ...payload(rotated), sub: bob.id })).toString('base64url')}.${s}`;
  r = await graphql(url, '{ allTasks { nodes { title } } }', {}, forged);
  tap(r.status === 401 && r.body?.errors?.[0]?.message === 'jwt signature does not match', 'a forged sub: 401', r.text);

  // Sign out: the session ends and no more tokens come from it.
  r = await fetch(`${url}/api/auth/sign-out`, { method: 'POST', headers: { cookie: alice.cookie, origin: url } });
  tap(r.status === 200, 'sign-out: 200', `${r.status} ${await r.text()}`);
  r = await fetch(`${url}/api/auth/token`, { headers: { cookie: alice.cookie } });
  tap(r.status === 401, 'after sign-out, /api/auth/token answers 401', r.status);
}, { tap, done });
