#!/usr/bin/env node
// Better Auth's sign-ins count in taskauth's own per-email login throttle (auth.mjs:
// signInThrottleHooks, taskauth.count_issuer_login_attempt and issuer_login_succeeded), with
// the app's rate limiter loosened (AUTH_RATE_LIMIT_MAX=1000) so that only taskauth's lock can
// refuse. Two wrong passwords for one email are counted (a taskauth.login_throttle row), the
// right one then takes the count back (row gone). Five wrong passwords in a row lock the email:
// the sixth attempt, the right password too and in other capitals, gets 429 "Too many failed
// sign-ins for this email. Try again in N seconds." with X-Retry-After, and is not counted;
// another email still signs in. Once the lock (taskauth.login_throttle_lock, 3 s here) has run
// out, the right password works and ends the count. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, newSecret, scenario, signUp, startApp,
} from './lib/app.mjs';

const DB = `ta_http_throttle_${process.pid}`;
const json = (x) => JSON.stringify(x);
const ERIN = 'erin@example.com';
const FRANK = 'frank@example.com';
const PASSWORD = 'better auth password';

await scenario(async (cleanup) => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl, signingSecret: newSecret(), authSecret: newSecret() });
  const db = await admin(DB);
  cleanup(() => db.end());
  // A short lock, so that the test can see it end (the app's connections read it at their start).
  await db.query(`ALTER DATABASE ${DB} SET taskauth.login_throttle_lock = 3`);

  const app = await startApp({ ...env, PORT: String(port), AUTH_RATE_LIMIT_MAX: '1000' });
  cleanup(() => app.stop());
  await signUp(appUrl, ERIN, PASSWORD);
  await signUp(appUrl, FRANK, PASSWORD);

  const signIn = (email, password) => fetch(`${appUrl}/api/auth/sign-in/email`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: appUrl },
    body: JSON.stringify({ email, password }),
  });
  const statuses = async (email, passwords) => {
    const out = [];
    for (const p of passwords) out.push((await signIn(email, p)).status);
    return out;
  };
  const throttle = async (email) => (await db.query(
    `SELECT failures, coalesce(locked_until > clock_timestamp(), false) AS locked FROM taskauth.login_throttle
      WHERE key = sha256(convert_to(lower($1), 'UTF8'))`, [email])).rows;

  let s = await statuses(ERIN, ['wrong 1', 'wrong 2']);
  let rows = await throttle(ERIN);
  tap(json(s) === json([401, 401]) && json(rows) === json([{ failures: 2, locked: false }]),
    'two wrong passwords get 401 and are counted in taskauth.login_throttle', `${json(s)} ${json(rows)}`);
  let r = await signIn(ERIN, PASSWORD);
  rows = await throttle(ERIN);
  tap(r.status === 200 && rows.length === 0,
    'the right password before the lock signs in and takes the count back (row gone)', `${r.status} ${json(rows)}`);

  s = await statuses(ERIN, ['wrong 1', 'wrong 2', 'wrong 3', 'wrong 4', 'wrong 5']);
  rows = await throttle(ERIN);
  tap(json(s) === json([401, 401, 401, 401, 401]) && json(rows) === json([{ failures: 5, locked: true }]),
    'five wrong passwords in a row get 401 and lock the email in taskauth.login_throttle', `${json(s)} ${json(rows)}`);
  r = await signIn(ERIN, PASSWORD);
  const retry = Number(r.headers.get('x-retry-after'));
  const body = await r.json();
  tap(r.status === 429 && retry >= 1 && retry <= 3 && body.code === 'TOO_MANY_FAILED_SIGN_INS' &&
      body.message === `Too many failed sign-ins for this email. Try again in ${retry} seconds.`,
  'the sixth attempt, with the right password, gets 429 from the taskauth lock: try again later (X-Retry-After)',
  `${r.status} ${r.headers.get('x-retry-after')} ${json(body)}`);
  s = await statuses('Erin@Example.COM', [PASSWORD, 'wrong 6']);
  rows = await throttle(ERIN);
  tap(json(s) === json([429, 429]) && json(rows) === json([{ failures: 5, locked: true }]),
    'the same email in other capitals is locked too; refused attempts are not counted', `${json(s)} ${json(rows)}`);
  const limiter = (await db.query(`SELECT count FROM public."rateLimit" WHERE key = '127.0.0.1|/sign-in/email'`)).rows;
  tap(limiter.length === 1 && limiter[0].count < 1000,
    "the 429s are taskauth's: Better Auth's rate limiter, loosened, refused nothing", json(limiter));

  s = await statuses(FRANK, ['wrong 1', PASSWORD]);
  tap(json(s) === json([401, 200]) && (await throttle(FRANK)).length === 0,
    'another email is unaffected: a wrong password 401, the right one 200', json(s));

  // The lock runs out (3 s): the right password works and ends the count.
  const until = (await db.query(`SELECT extract(epoch FROM locked_until) * 1000 AS t FROM taskauth.login_throttle
    WHERE key = sha256(convert_to($1, 'UTF8'))`, [ERIN])).rows[0].t;
  await new Promise((res) => setTimeout(res, Math.max(0, Number(until) + 200 - Date.now())));
  r = await signIn(ERIN, PASSWORD);
  rows = await throttle(ERIN);
  tap(r.status === 200 && rows.length === 0, 'once the lock has run out, the right password signs in; the count is gone',
    `${r.status} ${json(rows)}`);
}, { tap, done });
