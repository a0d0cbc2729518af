#!/usr/bin/env node
// Times jose (npm) jwtVerify on the tokens of bench/jwt_asym.py: one imported public key per
// algorithm, reused; prints one JSON line {alg: microseconds per token}. Usage: FILE
import { readFileSync } from 'node:fs';

await import('../test/interop/lib/webcrypto-global.mjs');
const jose = await import(new URL('../test/interop/node_modules/jose/dist/webapi/index.js', import.meta.url));
const data = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = {};
for (const [alg, { jwk, tokens }] of Object.entries(data)) {
  const key = await jose.importJWK(jwk, alg);
  // warm up, then time the whole list
  for (const t of tokens.slice(0, 200)) await jose.jwtVerify(t, key, { algorithms: [alg] });
  const t0 = process.hrtime.bigint();
  for (const t of tokens) await jose.jwtVerify(t, key, { algorithms: [alg] });
  out[alg] = Number(process.hrtime.bigint() - t0) / 1000 / tokens.length;
}
console.log(JSON.stringify(out));
