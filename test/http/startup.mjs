#!/usr/bin/env node
// The example app refuses to start in production (NODE_ENV=production) without a
// BETTER_AUTH_SECRET of at least 32 bytes, or with demo accounts (DEMO_ACCOUNTS), and refuses
// malformed variables in any mode, saying why. Emits TAP.
import { spawnSync } from 'node:child_process';
import { tap, done } from '../interop/lib/tap.mjs';
import { APP_DIR } from './lib/app.mjs';

// Runs `node server.mjs` with env; it must exit before opening any connection.
function start(env) {
  const { BETTER_AUTH_SECRET, ...rest } = process.env;
  return spawnSync('node', ['server.mjs'], { cwd: APP_DIR, env: { ...rest, PORT: '1', ...env }, encoding: 'utf8', timeout: 20000 });
}

let r = start({ NODE_ENV: 'production' });
tap(r.status === 1 && r.stderr.includes('BETTER_AUTH_SECRET must be set'),
  'production without BETTER_AUTH_SECRET: refuses to start', `${r.status} ${r.stderr}`);
r = start({ NODE_ENV: 'production', BETTER_AUTH_SECRET: 'x'.repeat(31) });
tap(r.status === 1 && r.stderr.includes('at least 32 bytes'), 'a 31-byte secret: refuses to start', `${r.status} ${r.stderr}`);
r = start({ BETTER_AUTH_SECRET: 'short' });
tap(r.status === 1 && r.stderr.includes('at least 32 bytes'), 'a short secret outside production too', `${r.status} ${r.stderr}`);
r = start({ AUTH_JWT_SIGNING: 'rs256' });
tap(r.status === 1 && r.stderr.includes('AUTH_JWT_SIGNING'), 'an unknown AUTH_JWT_SIGNING: refuses to start', `${r.status} ${r.stderr}`);
r = start({ NODE_ENV: 'production', BETTER_AUTH_SECRET: 'x'.repeat(32), DEMO_ACCOUNTS: 'alice@example.com:alice-demo-password' });
tap(r.status === 1 && r.stderr.includes('DEMO_ACCOUNTS is for local runs only'),
  'production with DEMO_ACCOUNTS: refuses to start', `${r.status} ${r.stderr}`);
r = start({ DEMO_ACCOUNTS: 'alice@example.com' });
tap(r.status === 1 && r.stderr.includes('DEMO_ACCOUNTS must be "email:password" pairs'),
  'DEMO_ACCOUNTS without a password: refuses to start', `${r.status} ${r.stderr}`);
for (const [name, value] of [['AUTH_RATE_LIMIT_MAX', '0'], ['AUTH_RATE_LIMIT_WINDOW', '1.5']]) {
  r = start({ [name]: value });
  tap(r.status === 1 && r.stderr.includes(`${name} must be a positive whole number`),
    `${name}=${value}: refuses to start`, `${r.status} ${r.stderr}`);
}
done();
