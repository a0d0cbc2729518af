#!/usr/bin/env node
// End to end with a real Better Auth (npm better-auth, its pg adapter, its jwt plugin) on the
// test cluster: users sign up in Better Auth and get JWTs from auth.api.getToken (EdDSA, then
// ES256 after a second instance mints a new key); taskauth reads Better Auth's own jwks table as
// an external issuer, authenticate() accepts the tokens (creating the users' rows on first
// sight) and row-level security shows each user only their tasks. Better Auth's scrypt password
// hashes verify in verify_password and carry over to taskauth.login. Emits TAP.
import './lib/webcrypto-global.mjs';
import { tap, done } from './lib/tap.mjs';
import assert from 'node:assert/strict';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { jwt } from 'better-auth/plugins';
import * as jose from 'jose';
import pg from 'pg';

const DB = `ta_betterauth_${process.pid}`;
const BASE = 'http://localhost:3000';
const API = `ta_ba_api_${process.pid}`;


// One Better Auth instance over the test database; keyPairConfig picks the JWT algorithm.
function makeAuth(pool, keyPairConfig) {
  return betterAuth({
    database: pool,
    baseURL: BASE,
    secret: 'better-auth-secret-for-the-taskauth-end-to-end-test',
    emailAndPassword: { enabled: true },
    advanced: { database: { generateId: 'uuid' } },
    telemetry: { enabled: false },
    logger: { level: 'error' },
    plugins: [jwt(keyPairConfig ? { jwks: { keyPairConfig } } : {})],
  });
}

async function signUp(auth, email, password, name) {
  const r = await auth.api.signUpEmail({ body: { email, password, name }, returnHeaders: true });
  return { id: r.response.user.id, cookie: r.headers.get('set-cookie') };
}

async function getToken(auth, cookie) {
  return (await auth.api.getToken({ headers: new Headers({ cookie }) })).token;
}

// Run fn in a transaction as the API role; returns its result or 'SQLSTATE message'.
async function asApi(c, fn) {
  await c.query('BEGIN');
  try {
    await c.query(`SET LOCAL ROLE ${API}`);
    const r = await fn();
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK');
    return `${e.code} ${e.message}`;
  }
}

async function run(c, pool) {
  const auth = makeAuth(pool);
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  const made = (await c.query(`SELECT count(*)::int AS n FROM pg_catalog.pg_tables
    WHERE schemaname = 'public' AND tablename IN ('user', 'session', 'account', 'verification', 'jwks')`)).rows[0].n;
  tap(made === 5, 'Better Auth migrations made its tables (user, session, account, verification, jwks)', made);

  const alice = await signUp(auth, 'alice@example.com', 'correct horse battery staple', 'Alice');
  const bob = await signUp(auth, 'bob@example.com', 'hunter2 hunter2', 'Bob');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  tap(uuid.test(alice.id) && uuid.test(bob.id), 'Better Auth user ids are uuids (generateId: "uuid")');

  const aliceJwt = await getToken(auth, alice.cookie);
  const bobJwt = await getToken(auth, bob.cookie);
  const header = jose.decodeProtectedHeader(aliceJwt);
  const claims = jose.decodeJwt(aliceJwt);
  tap(header.alg === 'EdDSA' && typeof header.kid === 'string', `getToken signs with EdDSA and a kid (${header.alg})`);
  tap(claims.sub === alice.id && claims.iss === BASE && claims.aud === BASE, 'token sub is the user id, iss and aud the base URL');

  // The token verifies with the JWKS Better Auth publishes, through jwt_verify(token, jsonb).
  const jwks = await auth.api.getJwks();
  let r = (await c.query('SELECT taskauth.jwt_verify($1::text, $2::jsonb, $3, $4) AS c',
    [aliceJwt, JSON.stringify(jwks), BASE, BASE])).rows[0].c;
  let same = true;
  try { assert.deepStrictEqual(r, claims); } catch { same = false; }
  tap(same, 'jwt_verify(token, published JWKS) returns the claims exactly', JSON.stringify(r));

  // Better Auth's jwks table, read where it is, is the issuer's key source.
  await c.query(`SELECT taskauth.add_issuer($1, audience => $1, key_table => 'public.jwks',
                                            provision_users => true)`, [BASE]);
  await c.query(`CREATE ROLE ${API}`);
  await c.query(`SELECT taskauth.grant_api_access('${API}')`);

  r = await asApi(c, async () => (await c.query('SELECT taskauth.authenticate($1) AS id', [aliceJwt])).rows[0].id);
  tap(r === alice.id, "Alice's Better Auth token authenticates as her user id", r);
  r = (await c.query('SELECT email FROM taskauth.users WHERE id = $1', [alice.id])).rows[0]?.email;
  tap(r === 'alice@example.com', "Alice's taskauth.users row was created on first authenticate", r);

  // Tasks under row-level security, each request its own transaction as the API role.
  const addTask = (tok, title) => asApi(c, async () => {
    await c.query('SELECT taskauth.authenticate($1)', [tok]);
    return (await c.query('INSERT INTO taskauth.tasks (title) VALUES ($1) RETURNING user_id', [title])).rows[0].user_id;
  });
  const listTasks = (tok) => asApi(c, async () => {
    if (tok) await c.query('SELECT taskauth.authenticate($1)', [tok]);
    return (await c.query('SELECT title FROM taskauth.tasks ORDER BY title')).rows.map((x) => x.title);
  });
  tap((await addTask(aliceJwt, 'alice: buy milk')) === alice.id, 'Alice adds a task; it is hers');
  tap((await addTask(aliceJwt, 'alice: write tests')) === alice.id, 'Alice adds a second task');
  tap((await addTask(bobJwt, 'bob: fix bike')) === bob.id, 'Bob (provisioned on first sight) adds a task');
  let list = await listTasks(aliceJwt);
  tap(JSON.stringify(list) === JSON.stringify(['alice: buy milk', 'alice: write tests']), 'Alice sees only her tasks', list);
  list = await listTasks(bobJwt);
  tap(JSON.stringify(list) === JSON.stringify(['bob: fix bike']), 'Bob sees only his task', list);
  list = await listTasks(null);
  tap(Array.isArray(list) && list.length === 0, 'anonymous sees no tasks', list);
  r = await asApi(c, async () => {
    await c.query('SELECT taskauth.authenticate($1)', [bobJwt]);
    return (await c.query("UPDATE taskauth.tasks SET title = 'stolen' WHERE title LIKE 'alice:%'")).rowCount;
  });
  tap(r === 0, "Bob cannot update Alice's tasks", r);

  // Tampering and a foreign issuer are refused.
  const [h, p, s] = aliceJwt.split('.');
  const forged = `${h}.${jose.base64url.encode(JSON.stringify({ ...claims, sub: bob.id }))}.${s}`;
  r = await asApi(c, async () => (await c.query('SELECT taskauth.authenticate($1) AS id', [forged])).rows[0].id);
  tap(r === '28000 jwt signature does not match', 'a token with a changed sub is refused', r);
  const { privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const foreign = await new jose.SignJWT({ sub: alice.id }).setProtectedHeader({ alg: 'EdDSA', kid: header.kid })
    .setIssuer(BASE).setAudience(BASE).setExpirationTime('5m').sign(privateKey);
  r = await asApi(c, async () => (await c.query('SELECT taskauth.authenticate($1) AS id', [foreign])).rows[0].id);
  tap(r === '28000 jwt signature does not match', "a token signed by another key under Better Auth's kid is refused", r);

  // Rotation: the EdDSA key expires, so a second Better Auth instance (configured for ES256)
  // mints a new key into the same jwks table. Its tokens authenticate at once, without a restart
  // or any call into taskauth; the old key's tokens still do during the grace period.
  await c.query(`UPDATE public.jwks SET "expiresAt" = now() - interval '1 second'`);
  const auth2 = makeAuth(pool, { alg: 'ES256' });
  const esJwt = await getToken(auth2, alice.cookie);
  tap(jose.decodeProtectedHeader(esJwt).alg === 'ES256', 'second instance signs with a new ES256 key');
  r = await asApi(c, async () => (await c.query('SELECT taskauth.authenticate($1) AS id', [esJwt])).rows[0].id);
  tap(r === alice.id, 'a token from the newly minted key authenticates at once', r);
  const keys = (await c.query('SELECT count(*)::int AS n FROM public.jwks')).rows[0].n;
  tap(keys === 2, 'Better Auth keeps both keys in its jwks table', keys);
  r = await asApi(c, async () => (await c.query('SELECT taskauth.authenticate($1) AS id', [aliceJwt])).rows[0].id);
  tap(r === alice.id, "the expired EdDSA key's token still authenticates within the grace period", r);

  // Expired past the grace period (Better Auth's gracePeriod, 30 days by default): refused.
  await c.query(`UPDATE public.jwks SET "expiresAt" = now() - interval '31 days' WHERE alg = 'ES256'`);
  await c.query('SET taskauth.issuer_keys_refresh = 0');
  r = await asApi(c, async () => (await c.query('SELECT taskauth.authenticate($1)', [esJwt])).rows[0].id);
  tap(r === '28000 jwt key id is not known', 'a token of a key past expiresAt and grace is refused', r);
  await c.query('RESET taskauth.issuer_keys_refresh');

  // Better Auth's scrypt password hashes verify in taskauth.
  const hash = (await c.query(`SELECT password FROM public.account WHERE "userId" = $1 AND "providerId" = 'credential'`,
    [alice.id])).rows[0].password;
  tap(/^[0-9a-f]{32}:[0-9a-f]{128}$/.test(hash), 'Better Auth stored a salt:key scrypt hash', hash.slice(0, 8));
  r = (await c.query('SELECT taskauth.verify_password($1, $2) AS ok', ['correct horse battery staple', hash])).rows[0].ok;
  tap(r === true, "Alice's Better Auth hash verifies her password in verify_password");
  r = (await c.query('SELECT taskauth.verify_password($1, $2) AS ok', ['correct horse battery stapler', hash])).rows[0].ok;
  tap(r === false, 'and refuses a wrong one');

  // Moving the account to taskauth keeps the password: login works and upgrades the hash.
  await c.query(`SELECT taskauth.add_signing_key(repeat('k-0123456789', 4), 'local-1')`);
  await c.query(`UPDATE taskauth.users u SET hashed_password = a.password FROM public.account a
                  WHERE a."userId" = u.id AND a."providerId" = 'credential'`);
  await c.query('SET taskauth.bcrypt_cost = 4');
  const tok = (await c.query('SELECT taskauth.login($1, $2) AS t', ['alice@example.com', 'correct horse battery staple'])).rows[0].t;
  tap(typeof tok === 'string' && tok.split('.').length === 3, 'taskauth.login accepts the Better Auth password');
  r = (await c.query('SELECT hashed_password FROM taskauth.users WHERE id = $1', [alice.id])).rows[0].hashed_password;
  tap(r.startsWith('$2b$04$'), 'and login upgraded the stored hash to bcrypt', r.slice(0, 7));
  r = await asApi(c, async () => (await c.query('SELECT taskauth.authenticate($1) AS id', [tok])).rows[0].id);
  tap(r === alice.id, "the server's own token for Alice authenticates as the same user", r);

  // The Better Auth hash of the same password made by its own library verifies as well.
  const { hashPassword } = await import('better-auth/crypto');
  const fresh = await hashPassword('pässwörd ﬁ');
  r = (await c.query('SELECT taskauth.verify_password($1, $2) AS ok', ['pässwörd fi', fresh])).rows[0].ok;
  tap(r === true, 'a Better Auth hash of a non-ASCII password verifies (NFKC on both sides)');

  // Unregistering the issuer ends its tokens.
  await c.query('SELECT taskauth.remove_issuer($1)', [BASE]);
  r = await asApi(c, async () => (await c.query('SELECT taskauth.authenticate($1) AS id', [aliceJwt])).rows[0].id);
  tap(typeof r === 'string' && r.startsWith('28000'), 'after remove_issuer its tokens are refused', r);
}

const admin = new pg.Client({ database: process.env.PGDATABASE || 'postgres' });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.query(`CREATE DATABASE ${DB}`);
const c = new pg.Client({ database: DB });
const pool = new pg.Pool({ database: DB, max: 4 });
try {
  await c.connect();
  await c.query('CREATE EXTENSION taskauth');
  await run(c, pool);
} catch (e) {
  tap(false, 'test ran to the end', e.stack);
} finally {
  await pool.end().catch(() => {});
  await c.end().catch(() => {});
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`DROP ROLE IF EXISTS ${API}`).catch(() => {});
  await admin.end();
}
done();
