#!/usr/bin/env node
// Public-key tokens made by jose (npm) verify in taskauth.jwt_verify(token, key jsonb): jose
// generates a key pair for every algorithm at test time, signs tokens with varied claims and
// headers, and exports the public JWK, a JWKS and the SPKI PEM. Claims must come back identical;
// tampered tokens, the classic key-confusion attacks and wrong keys must be refused. Uses the
// cluster from the PG* environment; emits TAP.
import './lib/webcrypto-global.mjs';
import { tap } from './lib/tap.mjs';
import { inScratchDatabase } from './lib/scratch.mjs';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as jose from 'jose';

const DB = `ta_jwk_jose_${process.pid}`;
const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];


// jwt_verify with a key, returning the claims or the error message.
async function verify(c, token, key, aud = null, iss = null) {
  try {
    const sql = aud === null && iss === null
      ? 'SELECT taskauth.jwt_verify($1::text, $2::jsonb) AS c'
      : 'SELECT taskauth.jwt_verify($1::text, $2::jsonb, $3, $4) AS c';
    const args = aud === null && iss === null ? [token, key] : [token, key, aud, iss];
    return { claims: (await c.query(sql, args)).rows[0].c };
  } catch (e) {
    return { error: `${e.code} ${e.message}` };
  }
}

function deepEqual(a, b) {
  try { assert.deepStrictEqual(a, b); return true; } catch { return false; }
}

async function keyPair(alg) {
  const opts = { extractable: true };
  if (alg.startsWith('RS') || alg.startsWith('PS')) opts.modulusLength = 2048;
  if (alg === 'EdDSA') opts.crv = 'Ed25519';
  return jose.generateKeyPair(alg, opts);
}

async function run(c) {
  const now = Math.floor(Date.now() / 1000);
  const claimSets = [
    { sub: 'a1b2c3', iat: now, exp: now + 600 },
    { sub: '4f9d2c55-7c1e-4a8e-9b1a-0d6b3c2e1f00', email: 'ü@example.com', roles: ['a', 'b'],
      nested: { deep: [1, 2.5, true, null, { x: 'y' }] }, iat: now - 5, nbf: now - 5, exp: now + 60 },
    { sub: '名前😀', aud: ['api', 'web'], iss: 'https://issuer.example', n: -12345678901234, f: 0.1 },
  ];
  const keys = {};
  for (const alg of ALGS) {
    const { publicKey, privateKey } = await keyPair(alg);
    const jwk = await jose.exportJWK(publicKey);
    keys[alg] = { publicKey, privateKey, jwk: { ...jwk, kid: `k-${alg}` } };

    for (const [i, claims] of claimSets.entries()) {
      const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(privateKey);
      const got = await verify(c, token, JSON.stringify(jwk));
      tap(deepEqual(got.claims, claims), `${alg}: jose token ${i + 1} verifies, same claims`, JSON.stringify(got));
    }

    // With a kid, against the JWK with that kid; alg pinned by the JWK.
    const token = await new jose.SignJWT({ sub: 'kid-test', exp: now + 60 })
      .setProtectedHeader({ alg, kid: `k-${alg}` }).sign(privateKey);
    let got = await verify(c, token, JSON.stringify({ ...keys[alg].jwk, alg, use: 'sig' }));
    tap(got.claims?.sub === 'kid-test', `${alg}: token with kid, JWK with kid, alg and use`, JSON.stringify(got));
    // jose's own verification agrees: a check of the vector, not of taskauth, counted apart by
    // the harness ("[library] ").
    const mine = await jose.jwtVerify(token, publicKey);
    tap(mine.payload.sub === 'kid-test', `[library] ${alg}: jose verifies its own token too`);

    // Tampered payload and signature.
    const [h, p, s] = token.split('.');
    const p2 = jose.base64url.encode(JSON.stringify({ sub: 'admin', exp: now + 60 }));
    got = await verify(c, `${h}.${p2}.${s}`, JSON.stringify(jwk));
    tap(got.error === '28000 jwt signature does not match', `${alg}: tampered payload refused`, JSON.stringify(got));
    const sb = Buffer.from(s, 'base64url');
    sb[5] ^= 1;
    got = await verify(c, `${h}.${p}.${sb.toString('base64url')}`, JSON.stringify(jwk));
    tap(got.error === '28000 jwt signature does not match', `${alg}: flipped signature bit refused`, JSON.stringify(got));

    // SPKI PEM -> jwk_from_pem gives jose's JWK.
    const pem = await jose.exportSPKI(publicKey);
    const conv = (await c.query('SELECT taskauth.jwk_from_pem($1) AS j', [pem])).rows[0].j;
    tap(deepEqual(conv, jwk), `${alg}: jwk_from_pem(jose SPKI) equals jose's JWK`, JSON.stringify(conv));

    // Expired and audience/issuer checks.
    const old = await new jose.SignJWT({ sub: 'x' }).setProtectedHeader({ alg })
      .setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(privateKey);
    got = await verify(c, old, JSON.stringify(jwk));
    tap(got.error === '28000 jwt expired', `${alg}: expired token refused`, JSON.stringify(got));
    const ai = await new jose.SignJWT({ sub: 'x' }).setProtectedHeader({ alg })
      .setAudience('api').setIssuer('https://issuer.example').sign(privateKey);
    got = await verify(c, ai, JSON.stringify(jwk), 'api', 'https://issuer.example');
    tap(got.claims?.aud === 'api', `${alg}: audience and issuer accepted`, JSON.stringify(got));
    got = await verify(c, ai, JSON.stringify(jwk), 'other', null);
    tap(got.error === '28000 jwt audience does not match', `${alg}: wrong audience refused`, JSON.stringify(got));
  }

  // One JWKS with every key: selection by kid, and by key type without kid.
  const jwks = JSON.stringify({ keys: ALGS.map((a) => keys[a].jwk) });
  for (const alg of ALGS) {
    const withKid = await new jose.SignJWT({ sub: alg }).setProtectedHeader({ alg, kid: `k-${alg}` })
      .sign(keys[alg].privateKey);
    let got = await verify(c, withKid, jwks);
    tap(got.claims?.sub === alg, `JWKS: ${alg} selected by kid`, JSON.stringify(got));
    const noKid = await new jose.SignJWT({ sub: alg }).setProtectedHeader({ alg }).sign(keys[alg].privateKey);
    got = await verify(c, noKid, jwks);
    tap(got.claims?.sub === alg, `JWKS: ${alg} without kid found by key type`, JSON.stringify(got));
  }

  // Attacks.
  const rsaJwk = keys.RS256.jwk;
  const rsaPem = await jose.exportSPKI(keys.RS256.publicKey);
  for (const [label, secret] of [['JWK text', JSON.stringify(rsaJwk)], ['PEM text', rsaPem]]) {
    const forged = await new jose.SignJWT({ sub: 'admin' }).setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
    const got = await verify(c, forged, JSON.stringify(rsaJwk));
    tap(got.error === '28000 jwt algorithm is not allowed for this key',
      `HS256 signed with the public key's ${label} is refused`, JSON.stringify(got));
  }
  const unsecured = new jose.UnsecuredJWT({ sub: 'admin' }).encode() + 'AA';
  let got = await verify(c, unsecured, JSON.stringify(rsaJwk));
  tap(got.error === '28000 jwt algorithm none is not accepted', 'alg none refused', JSON.stringify(got));
  const rsTok = await new jose.SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256' }).sign(keys.RS256.privateKey);
  got = await verify(c, rsTok, JSON.stringify(keys.ES256.jwk));
  tap(got.error === '28000 jwt algorithm is not allowed for this key', 'RSA token against an EC key refused', JSON.stringify(got));
  const other = await keyPair('RS256');
  const sameKid = await new jose.SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k-RS256' })
    .sign(other.privateKey);
  got = await verify(c, sameKid, jwks);
  tap(got.error === '28000 jwt signature does not match', 'wrong key with the same kid refused', JSON.stringify(got));
  // jose refuses to make a key this small; node's crypto does.
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  got = await verify(c, rsTok, JSON.stringify(small.publicKey.export({ format: 'jwk' })));
  tap(got.error === '22023 rsa key is shorter than 2048 bits', 'RSA 1024 key refused', JSON.stringify(got));
  const priv = await jose.exportJWK(keys.ES256.privateKey);
  got = await verify(c, rsTok, JSON.stringify(priv));
  tap(got.error === '22023 jwk contains private key material', 'private JWK refused', JSON.stringify(got));
}

await inScratchDatabase(DB, run);
