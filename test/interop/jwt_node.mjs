#!/usr/bin/env node
// Tokens both ways between taskauth and the two common Node libraries: jose (SignJWT /
// jwtVerify) and jsonwebtoken (sign / verify). Their HS256/384/512 tokens with varied claims
// verify in taskauth.jwt_verify with identical claims; jwt_sign output verifies in both with
// identical claims; tampered tokens fail everywhere; expiry, audience and issuer verdicts agree
// with jose. Uses the cluster from the PG* environment in a database of its own; emits TAP.
import './lib/webcrypto-global.mjs';
import { tap } from './lib/tap.mjs';
import { inScratchDatabase } from './lib/scratch.mjs';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import jsonwebtoken from 'jsonwebtoken';

const DB = `ta_jwt_node_${process.pid}`;
const ALGS = ['HS256', 'HS384', 'HS512'];
const SECRET = 'node-interop-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789';
const KEY = new TextEncoder().encode(SECRET);


function deepEqual(a, b) {
  try { assert.deepStrictEqual(a, b); return true; } catch { return false; }
}

// taskauth.jwt_verify: { claims } or { error: 'SQLSTATE message' }.
async function verify(c, token, secret = SECRET, aud = null, iss = null) {
  try {
    const r = aud === null && iss === null
      ? await c.query('SELECT taskauth.jwt_verify($1::text, $2::text) AS c', [token, secret])
      : await c.query('SELECT taskauth.jwt_verify($1::text, $2::text, audience => $3, issuer => $4) AS c',
        [token, secret, aud, iss]);
    return { claims: r.rows[0].c };
  } catch (e) {
    return { error: `${e.code} ${e.message}` };
  }
}

async function sign(c, claims, alg, secret = SECRET) {
  return (await c.query('SELECT taskauth.jwt_sign($1::jsonb, $2::text, $3::text) AS t',
    [JSON.stringify(claims), secret, alg])).rows[0].t;
}

async function joseVerify(token, alg, aud, iss, key = KEY) {
  try {
    const opts = { algorithms: [alg], clockTolerance: 0 };
    if (aud) opts.audience = aud;
    if (iss) opts.issuer = iss;
    const { payload, protectedHeader } = await jose.jwtVerify(token, key, opts);
    return { claims: payload, header: protectedHeader };
  } catch (e) {
    return { error: e.code || e.name };
  }
}

function jwtVerify(token, alg, secret = SECRET, aud, iss) {
  try {
    const opts = { algorithms: [alg] };
    if (aud) opts.audience = aud;
    if (iss) opts.issuer = iss;
    return { claims: jsonwebtoken.verify(token, secret, opts) };
  } catch (e) {
    return { error: e.name };
  }
}

// Change one character in the middle of segment part (1 payload, 2 signature).
function tamper(token, part) {
  const segs = token.split('.');
  const s = segs[part];
  const i = Math.floor(s.length / 2);
  segs[part] = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  return segs.join('.');
}

async function run(c) {
  await c.query('SET taskauth.leeway = 0');
  const now = Math.floor(Date.now() / 1000);
  const claimSets = {
    registered: { sub: '4f9d2c55-7c1e-4a8e-9b1a-0d6b3c2e1f00', email: 'ana@example.com', iat: now,
      nbf: now - 5, exp: now + 600, iss: 'https://id.example', jti: 'j-1' },
    unicode: { name: 'Zoë Ångström 日本語 😀', rtl: 'שלום', esc: 'q " b \\ s / n \n t \t' },
    nested: { roles: ['admin', 'user'], org: { id: 7, tags: [], meta: { a: [1, [2, [3]]] } },
      flags: { beta: true, legacy: false, none: null } },
    numbers: { int: 42, neg: -7, zero: 0, float: 2.5, small: 0.001, big: 9007199254740991,
      fexp: now + 100.25 },
    audArray: { aud: ['web', 'api'], sub: 'x' },
  };

  for (const alg of ALGS) {
    for (const [name, claims] of Object.entries(claimSets)) {
      // jose -> taskauth
      const jt = await new jose.SignJWT(claims).setProtectedHeader({ alg }).sign(KEY);
      let got = await verify(c, jt);
      tap(deepEqual(got.claims, claims), `jose ${alg} ${name} verifies in taskauth with identical claims`,
        JSON.stringify(got));
      // jsonwebtoken -> taskauth
      // noTimestamp would also drop an iat the claims carry
      const wt = jsonwebtoken.sign(claims, SECRET, { algorithm: alg, noTimestamp: !('iat' in claims) });
      got = await verify(c, wt);
      tap(deepEqual(got.claims, claims), `jsonwebtoken ${alg} ${name} verifies in taskauth with identical claims`,
        JSON.stringify(got));
      // taskauth -> jose and jsonwebtoken
      const ours = await sign(c, claims, alg);
      const aud = claims.aud ? 'api' : undefined;
      const jv = await joseVerify(ours, alg, aud);
      tap(deepEqual(jv.claims, claims) && deepEqual(jv.header, { alg, typ: 'JWT' }),
        `jwt_sign ${alg} ${name} verifies in jose with identical claims and header`, JSON.stringify(jv));
      const wv = jwtVerify(ours, alg, SECRET, aud);
      tap(deepEqual(wv.claims, claims), `jwt_sign ${alg} ${name} verifies in jsonwebtoken with identical claims`,
        JSON.stringify(wv));
    }
    // headers jose adds for others: kid, typ variants
    const kt = await new jose.SignJWT({ sub: 'k' }).setProtectedHeader({ alg, kid: 'key-2024', typ: 'at+jwt' }).sign(KEY);
    const got = await verify(c, kt);
    tap(deepEqual(got.claims, { sub: 'k' }), `jose ${alg} with kid and typ at+jwt verifies`, JSON.stringify(got));
  }

  // tampering, all directions
  for (const alg of ALGS) {
    const claims = { sub: 'victim', admin: false };
    const jt = await new jose.SignJWT(claims).setProtectedHeader({ alg }).sign(KEY);
    const ours = await sign(c, claims, alg);
    for (const [part, what] of [[1, 'payload'], [2, 'signature']]) {
      const g = await verify(c, tamper(jt, part));
      tap(g.error && g.error.startsWith('28000'), `tampered ${what} of a jose ${alg} token fails in taskauth`, g.error);
      const jv = await joseVerify(tamper(ours, part), alg);
      tap(jv.error !== undefined, `tampered ${what} of a jwt_sign ${alg} token fails in jose (${jv.error})`);
      const wv = jwtVerify(tamper(ours, part), alg);
      tap(wv.error !== undefined, `tampered ${what} of a jwt_sign ${alg} token fails in jsonwebtoken (${wv.error})`);
    }
    const wrong = await verify(c, jt, `${SECRET}x`);
    tap(wrong.error === '28000 jwt signature does not match', `jose ${alg} token with another secret fails in taskauth`,
      wrong.error);
  }

  // verdicts agree with jose
  const cases = [
    ['expired', { exp: now - 60 }, null, null],
    ['not yet valid', { nbf: now + 600 }, null, null],
    ['valid window', { nbf: now - 60, exp: now + 600 }, null, null],
    ['audience match in array', { aud: ['a', 'api'] }, 'api', null],
    ['audience mismatch', { aud: 'web' }, 'api', null],
    ['audience missing', { sub: 'x' }, 'api', null],
    ['issuer match', { iss: 'https://id.example' }, null, 'https://id.example'],
    ['issuer mismatch', { iss: 'https://evil.example' }, null, 'https://id.example'],
  ];
  for (const [name, claims, aud, iss] of cases) {
    const t = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(KEY);
    const ours = await verify(c, t, SECRET, aud, iss);
    const theirs = await joseVerify(t, 'HS256', aud, iss);
    tap((ours.error === undefined) === (theirs.error === undefined),
      `verdict agrees with jose: ${name} (${ours.error ?? 'ok'})`, `${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
  }

  // unsecured tokens from both libraries are refused
  const unsecured = new jose.UnsecuredJWT({ sub: 'x', admin: true }).encode();
  let g = await verify(c, unsecured);
  tap(g.error === '28000 jwt is malformed', 'jose UnsecuredJWT (alg none, empty signature) refused', g.error);
  const none = jsonwebtoken.sign({ sub: 'x', admin: true }, null, { algorithm: 'none' });
  g = await verify(c, none);
  tap(g.error && g.error.startsWith('28000'), 'jsonwebtoken alg none refused', g.error);
  // alg none with a made-up signature segment reaches the header check
  g = await verify(c, `${none}AAAA`);
  tap(g.error === '28000 jwt algorithm none is not accepted', 'alg none with a signature refused by name', g.error);

  // unicode secret: UTF-8 bytes on both sides
  const usecret = 'sëcret-🔑-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
  const ut = jsonwebtoken.sign({ sub: 'u' }, usecret, { algorithm: 'HS256', noTimestamp: true });
  g = await verify(c, ut, usecret);
  tap(deepEqual(g.claims, { sub: 'u' }), 'unicode secret: jsonwebtoken token verifies in taskauth', JSON.stringify(g));
  const jv = await joseVerify(await sign(c, { sub: 'u' }, 'HS256', usecret), 'HS256', null, null,
    new TextEncoder().encode(usecret));
  tap(deepEqual(jv.claims, { sub: 'u' }), 'unicode secret: jwt_sign token verifies in jose', JSON.stringify(jv));
}

await inScratchDatabase(DB, run);
