#!/usr/bin/env node
// The example app's second setup: Better Auth's API tokens are HS256 (the jwt plugin's custom
// signer, AUTH_JWT_SIGNING=hs256) under a key derived from BETTER_AUTH_SECRET,
// HMAC-SHA256(secret, "task-app api token") in base64url, and taskauth verifies them with that
// key, given to taskauth.add_signing_key by the README's command (`node api-token-key.mjs`), no
// issuer registered. The secret itself signs Better Auth's email-verification links, which GET
// /api/auth/verify-email checks with it alone (HS256, any typ and aud, a claim email naming the
// address to mark verified): neither Better Auth's API tokens, which carry their user's email,
// nor taskauth's own access tokens (typ at+jwt, aud taskauth, a key taskauth derives from its
// signing key) pass there. A token signed with the raw secret does: taskauth's tokens signed so
// once verified an email their holder does not own (security review 2, finding 6), and the
// app's own API tokens signed so let a signed-in user verify their email without the mail
// (RFC 8725 §3.9, §3.11: one key per purpose). Emits TAP.
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, APP_DIR, createAppDatabase, dropAppDatabase, freePort, getToken, graphql, newSecret, scenario, signUp,
  startApp,
} from './lib/app.mjs';

const DB = `ta_http_hs_${process.pid}`;
const json = (x) => JSON.stringify(x);
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url'));

await scenario(async (cleanup) => {
  const port = await freePort();
  const secret = newSecret();
  cleanup(() => dropAppDatabase(DB));
  // The README's command: no app_url, no issuer; the server's own key is derived from Better
  // Auth's secret, computed here as the README defines it.
  const env = await createAppDatabase(DB, { hs256: true, authSecret: secret });
  const apiKey = createHmac('sha256', Buffer.from(secret, 'utf8')).update('task-app api token').digest('base64url');
  const app = await startApp({ ...env, PORT: String(port), AUTH_JWT_SIGNING: 'hs256' });
  cleanup(() => app.stop());
  const url = app.url;
  const db = await admin(DB);
  cleanup(() => db.end());
  const keys = (await db.query('SELECT secret, retired_at FROM taskauth.signing_keys')).rows;
  tap(keys.length === 1 && keys[0].secret === apiKey && apiKey.length === 43 && keys[0].retired_at === null,
    "the README's command gave add_signing_key the derived key (43 bytes of base64url), not BETTER_AUTH_SECRET",
    json(keys.map((k) => [k.secret === secret ? 'BETTER_AUTH_SECRET' : k.secret.length, k.retired_at])));

  const alice = await signUp(url, 'alice@example.com', 'correct horse battery staple');
  const bob = await signUp(url, 'bob@example.com', 'hunter2 hunter2 hunter2');
  const aliceJwt = await getToken(url, alice.cookie);
  const bobJwt = await getToken(url, bob.cookie);
  tap(json(part(aliceJwt, 0)) === json({ alg: 'HS256', typ: 'JWT' }) && part(aliceJwt, 1).sub === alice.id,
    'GET /api/auth/token gives an HS256 JWT whose sub is the user id', json(part(aliceJwt, 0)));
  const v = (await db.query('SELECT taskauth.jwt_verify($1, $2) AS c', [aliceJwt, apiKey])).rows[0].c;
  tap(isDeepStrictEqual(v, part(aliceJwt, 1)), 'taskauth.jwt_verify with the derived key returns its claims exactly',
    json(v));
  const raw = await db.query('SELECT taskauth.jwt_verify($1, $2) AS c', [aliceJwt, secret]).then(() => 'verified', (e) => e.message);
  tap(raw === 'jwt signature does not match', 'and with BETTER_AUTH_SECRET itself: "jwt signature does not match"', raw);
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
  // What the app signed before: the same header and claims under BETTER_AUTH_SECRET itself.
  const rawSigned = `${h}.${p}.${createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${h}.${p}`).digest('base64url')}`;
  r = await graphql(url, '{ allTasks { nodes { title } } }', {}, rawSigned);
  tap(r.status === 401 && r.body?.errors?.[0]?.message === 'jwt signature does not match',
    "Alice's token signed with BETTER_AUTH_SECRET itself (as before): 401, the secret is no key of taskauth's", r.text);

  // Better Auth's GET /api/auth/verify-email?token=...: a JWT that verifies with the secret and
  // names an email marks that user's email verified.
  const verified = async (email) =>
    (await db.query('SELECT "emailVerified" AS v FROM public."user" WHERE email = $1', [email])).rows[0]?.v;
  const verifyEmail = (token, query = '') =>
    fetch(`${url}/api/auth/verify-email?token=${encodeURIComponent(token)}${query}`, { redirect: 'manual' });
  const invalid = json({ message: 'Invalid token', code: 'INVALID_TOKEN' });
  // The attack of the finding: an account in taskauth under an email someone signs up with in
  // Better Auth later (the API no longer lets anyone create one, issuer_accounts.mjs; the owner
  // does here) and a token for it with that email.
  const squatter = (await db.query("SELECT taskauth.register('frank@example.com', 'squatter password 1') AS id")).rows[0].id;
  await signUp(url, 'frank@example.com', 'franks own better auth password');
  const squatterToken = (await db.query(
    "SELECT access_token FROM taskauth.sign_in('frank@example.com', 'squatter password 1')")).rows[0].access_token;
  tap(json(part(squatterToken, 0)).startsWith('{"alg":"HS256","typ":"at+jwt","kid":') &&
      part(squatterToken, 1).aud === 'taskauth' && part(squatterToken, 1).email === 'frank@example.com',
  'taskauth.sign_in issues an access token typed at+jwt, aud taskauth', json([part(squatterToken, 0), part(squatterToken, 1)]));
  r = await graphql(url, '{ currentUserId }', {}, squatterToken);
  tap(r.body?.data?.currentUserId === squatter, 'which authenticates at /graphql (the key taskauth derives from its own)', r.text);
  r = await verifyEmail(squatterToken);
  let text = await r.text();
  tap(r.status === 401 && text === invalid && await verified('frank@example.com') === false,
    "Better Auth's verify-email refuses it: 401 INVALID_TOKEN, Frank's email stays unverified", `${r.status} ${text}`);
  r = await verifyEmail(squatterToken, `&callbackURL=${encodeURIComponent(`${url}/`)}`);
  tap(r.status === 302 && r.headers.get('location') === `${url}/?error=INVALID_TOKEN` &&
      await verified('frank@example.com') === false,
  'as a link with callbackURL too: a redirect with error=INVALID_TOKEN, nothing verified', `${r.status} ${r.headers.get('location')}`);
  const issued = (await db.query('SELECT taskauth.issue_token($1, $2) AS t', [alice.id, 'alice@example.com'])).rows[0].t;
  r = await verifyEmail(issued);
  text = await r.text();
  tap(r.status === 401 && text === invalid && await verified('alice@example.com') === false,
    "taskauth.issue_token's token for Alice: refused as well, her email stays unverified", `${r.status} ${text}`);

  // The same claims signed the way taskauth signed before, when its key was Better Auth's
  // secret: HS256 with the secret itself, typ JWT.
  const { kid } = part(squatterToken, 0);
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64({
    sub: squatter, email: 'frank@example.com', sid: randomUUID(), iat: now, exp: now + 900 })}`;
  const oldStyle = `${input}.${createHmac('sha256', Buffer.from(secret, 'utf8')).update(input).digest('base64url')}`;
  r = await verifyEmail(oldStyle);
  text = await r.text();
  tap(r.status === 200 && text === json({ status: true, user: null }) && await verified('frank@example.com') === true,
    "a token signed as taskauth signed before (the raw secret, typ JWT) passes verify-email: Frank's email is verified " +
    'by the holder of another account, why taskauth keys its tokens apart', `${r.status} ${text}`);

  // The other way round: a verification token made by Better Auth's own code is no API token.
  const require = createRequire(APP_DIR);
  const { createEmailVerificationToken } = await import(require.resolve('better-auth/api'));
  const link = await createEmailVerificationToken(secret, 'alice@example.com', undefined, 3600, { userId: alice.id });
  r = await graphql(url, '{ currentUserId }', {}, link);
  tap(r.status === 401 && r.body?.errors?.[0]?.message === 'jwt signature does not match',
    "Better Auth's email-verification token at /graphql: 401 \"jwt signature does not match\"", r.text);

  // Better Auth's own tokens from /api/auth/token carry the user's email; signed with the secret
  // itself (as before) they passed verify-email, and a signed-in user verified their own email
  // without the mail. Under the derived key they are refused there and still work at /graphql.
  r = await verifyEmail(aliceJwt);
  text = await r.text();
  tap(r.status === 401 && text === invalid && await verified('alice@example.com') === false,
    "Better Auth's own API token is refused by its verify-email: 401 INVALID_TOKEN, Alice's email stays unverified",
    `${r.status} ${text}`);
  r = await verifyEmail(bobJwt, `&callbackURL=${encodeURIComponent(`${url}/`)}`);
  tap(r.status === 302 && r.headers.get('location') === `${url}/?error=INVALID_TOKEN` &&
      await verified('bob@example.com') === false,
  "Bob's as a link with callbackURL: a redirect with error=INVALID_TOKEN, his email stays unverified",
  `${r.status} ${r.headers.get('location')}`);
  r = await graphql(url, '{ currentUserId }', {}, aliceJwt);
  tap(r.status === 200 && r.body?.data?.currentUserId === alice.id,
    "and Alice's API token still authenticates at /graphql", r.text);
  // The same claims under the secret itself, as the app signed them before: verify-email takes them.
  r = await verifyEmail(rawSigned);
  text = await r.text();
  tap(r.status === 200 && text === json({ status: true, user: null }) && await verified('alice@example.com') === true &&
      await verified('bob@example.com') === false,
  "Alice's token signed with the secret itself (as the app signed before) passes verify-email: what the derived key prevents",
  `${r.status} ${text}`);
}, { tap, done });
