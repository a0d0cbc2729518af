#!/usr/bin/env node
// Better Auth's rate limiter runs in the example app in every mode (its default is production
// only), with its counts in its own rateLimit table, which the app's migration creates. Before,
// nine wrong passwords in 7 seconds all got 401 outside production. Here, in development mode:
// five sign-ins from one client address in a row (AUTH_RATE_LIMIT_MAX, AUTH_RATE_LIMIT_WINDOW:
// 5 less than 60 s apart) get their answers, the sixth gets 429 with X-Retry-After, the right
// password too, and an X-Forwarded-For (or the app's own client-address header) sent by the
// client changes nothing: the app counts by the connection's address. Restarted, in production
// mode this time, the app still refuses: the count is in the database. The five wrong passwords
// locked the email in taskauth's own throttle as well; with that lock lifted and the app
// restarted with a 3-second window, a sign-in 3 seconds after the last one let through works
// again. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, newSecret, scenario, signUp, startApp,
} from './lib/app.mjs';

const DB = `ta_http_limit_${process.pid}`;
const json = (x) => JSON.stringify(x);
const EMAIL = 'erin@example.com';
const PASSWORD = 'erin better auth password';

await scenario(async (cleanup) => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl, signingSecret: newSecret(), authSecret: newSecret() });
  const db = await admin(DB);
  cleanup(() => db.end());
  const columns = (await db.query(`SELECT column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = 'rateLimit' ORDER BY column_name`)).rows.map((r) => r.column_name);
  tap(json(columns) === json(['count', 'id', 'key', 'lastRequest']),
    "node migrate.mjs created Better Auth's rateLimit table", json(columns));

  let app = await startApp({ ...env, PORT: String(port), NODE_ENV: 'development' });
  cleanup(() => app.stop());
  await signUp(appUrl, EMAIL, PASSWORD);

  const signIn = (password, headers = {}) => fetch(`${appUrl}/api/auth/sign-in/email`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: appUrl, ...headers },
    body: JSON.stringify({ email: EMAIL, password }),
  });
  const statuses = [];
  for (let i = 0; i < 6; i += 1) statuses.push((await signIn(`wrong password ${i}`)).status);
  tap(json(statuses) === json([401, 401, 401, 401, 401, 429]),
    'NODE_ENV=development: five wrong passwords for one email get 401, the sixth 429', json(statuses));
  let r = await signIn(`wrong password 7`);
  const retry = Number(r.headers.get('x-retry-after'));
  tap(r.status === 429 && retry > 50 && retry <= 60 &&
      (await r.json()).message === 'Too many requests. Please try again later.',
  'a 429 says when to try again (X-Retry-After, seconds)', `${r.status} ${r.headers.get('x-retry-after')}`);
  r = await signIn(PASSWORD);
  tap(r.status === 429, 'the right password too gets 429 while the limit holds', r.status);
  const spoofed = [];
  for (const headers of [{ 'x-forwarded-for': '203.0.113.7' }, { 'x-task-app-client-address': '203.0.113.8' }])
    spoofed.push((await signIn(PASSWORD, headers)).status);
  tap(json(spoofed) === json([429, 429]),
    'an X-Forwarded-For or x-task-app-client-address from the client changes nothing: 429', json(spoofed));
  const rows = (await db.query('SELECT key, count FROM public."rateLimit" WHERE key LIKE $1', ['%/sign-in/email'])).rows;
  tap(json(rows) === json([{ key: '127.0.0.1|/sign-in/email', count: 5 }]),
    'the count is a row of the rateLimit table, keyed by the address and the path', json(rows));

  await app.stop();
  app = await startApp({ ...env, PORT: String(port), NODE_ENV: 'production' });
  r = await signIn(PASSWORD);
  tap(r.status === 429, 'restarted (in production mode this time), the app still answers 429: the count survived', r.status);

  // The five wrong passwords also locked erin's email in taskauth's own per-email throttle
  // (auth.mjs: signInThrottleHooks; test/http/sign_in_throttle.mjs), for 30 s. The owner lifts
  // that lock, so that what follows sees Better Auth's window alone.
  const locked = (await db.query(`SELECT failures, locked_until > clock_timestamp() AS locked
    FROM taskauth.login_throttle WHERE key = sha256(convert_to($1, 'UTF8'))`, [EMAIL])).rows;
  tap(json(locked) === json([{ failures: 5, locked: true }]),
    "the five wrong passwords (not the refused attempts) locked the email in taskauth's throttle too", json(locked));
  await db.query('SELECT taskauth.issuer_login_succeeded($1)', [EMAIL]);

  // A window of 3 seconds: the count starts again 3 s after the last sign-in it let through.
  await app.stop();
  app = await startApp({ ...env, PORT: String(port), AUTH_RATE_LIMIT_WINDOW: '3' });
  const last = Number((await db.query('SELECT "lastRequest" AS t FROM public."rateLimit" WHERE key = $1',
    ['127.0.0.1|/sign-in/email'])).rows[0].t);
  await new Promise((res) => setTimeout(res, Math.max(0, last + 3100 - Date.now())));
  r = await signIn(PASSWORD);
  tap(r.status === 200, 'AUTH_RATE_LIMIT_WINDOW=3: three seconds after the last sign-in let through, the right password works',
    `${r.status} ${await r.text()}`);
}, { tap, done });
