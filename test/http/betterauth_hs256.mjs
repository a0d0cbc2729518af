#!/usr/bin/env node
// The example app's second setup: Better Auth signs HS256 with BETTER_AUTH_SECRET (the jwt
// plugin's custom signer, AUTH_JWT_SIGNING=hs256) and taskauth verifies with the same secret
// given to taskauth.add_signing_key, no issuer registered. Emits TAP.
import { isDeepStrictEqual } from 'node:util';
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, getToken, graphql, newSecret, scenario, signUp, startApp,
} from './lib/app.mjs';

const DB = `ta_http_hs_${process.pid}`;
const json = (x) => JSON.stringify(x);
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url'));

await scenario(async (cleanup) => {
  const port = await freePort();
  const secret = newSecret();
  cleanup(() => dropAppDatabase(DB));
  // No app_url: no issuer; the server's own key is Better Auth's secret.
  const env = await createAppDatabase(DB, { signingSecret: secret, authSecret: secret });
  const app = await startApp({ ...env, PORT: String(port), AUTH_JWT_SIGNING: 'hs256' });
  cleanup(() => app.stop());
  const url = app.url;
  const db = await admin(DB);
  cleanup(() => db.end());

  const alice = await signUp(url, 'alice@example.com', 'correct horse battery staple');
  const bob = await signUp(url, 'bob@example.com', 'hunter2 hunter2 hunter2');
  const aliceJwt = await getToken(url, alice.cookie);
  const bobJwt = await getToken(url, bob.cookie);
  tap(json(part(aliceJwt, 0)) === json({ alg: 'HS256', typ: 'JWT' }) && part(aliceJwt, 1).sub === alice.id,
    'GET /api/auth/token gives an HS256 JWT whose sub is the user id', json(part(aliceJwt, 0)));
  const v = (await db.query('SELECT taskauth.jwt_verify($1, $2) AS c', [aliceJwt, secret])).rows[0].c;
  tap(isDeepStrictEqual(v, part(aliceJwt, 1)), 'taskauth.jwt_verify with BETTER_AUTH_SECRET returns its claims exactly',
    json(v));
  const rows = (await db.query('SELECT id, email FROM taskauth.users ORDER BY email')).rows;
  tap(json(rows) === json([{ id: alice.id, email: 'alice@example.com' }, { id: bob.id, email: 'bob@example.com' }]),
    'sign-up created the taskauth.users rows (Better Auth database hook)', json(rows));

  const create = (token, title) => graphql(url,
    'mutation ($t: String!) { createTask(input: {task: {title: $t}}) { task { userId } } }', { t: title }, token);
  const titles = async (token) => {
    const r = await graphql(url, '{ allTasks(orderBy: TITLE_ASC) { nodes { title } } }', {}, token);
    return r.body?.data?.allTasks?.nodes.map((t) => t.title) ?? r.text;
  };
  let r = await create(aliceJwt, 'alice: buy milk');
  tap(r.body?.data?.createTask?.task?.userId === alice.id, "Alice's HS256 token creates her task at /graphql", r.text);
  r = await create(bobJwt, 'bob: fix bike');
  tap(r.body?.data?.createTask?.task?.userId === bob.id, "Bob's creates his", r.text);
  tap(json(await titles(aliceJwt)) === json(['alice: buy milk']), 'Alice sees only her task');
  tap(json(await titles(bobJwt)) === json(['bob: fix bike']), 'Bob sees only his task');

  r = await fetch(`${url}/api/auth/jwks`);
  tap(r.status === 404, 'no JWKS is published for the HMAC key (/api/auth/jwks: 404)', r.status);
  // A token signed with another secret is refused.
  const [h, p] = aliceJwt.split('.');
  const other = (await db.query('SELECT taskauth.jwt_sign($1::jsonb, $2) AS t', [json(part(aliceJwt, 1)), newSecret()])).rows[0].t;
  r = await graphql(url, '{ allTasks { nodes { title } } }', {}, other);
  tap(r.status === 401 && r.body?.errors?.[0]?.message === 'jwt signature does not match',
    'an HS256 token made with another secret: 401', r.text);
  r = await graphql(url, '{ allTasks { nodes { title } } }', {}, `${h}.${p}.${bobJwt.split('.')[2]}`);
  tap(r.status === 401, "Alice's header and claims under Bob's signature: 401", r.text);
}, { tap, done });
