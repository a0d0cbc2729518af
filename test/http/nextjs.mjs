#!/usr/bin/env node
// examples/nextjs, the original design's frontend on taskauth, as its production build: `next
// build`, then `next start` on a loopback port over a scratch database set up as its README says
// (`node migrate.mjs`, setup.sql). In headless Chromium (the Debian package, driven by
// playwright-core): Alice signs up, adds, completes and deletes tasks; Bob, in a fresh context,
// sees none of hers and she none of his; the database holds each task under its owner. Signing
// out takes effect at once: a token of Alice's session that authenticated in the database just
// before is refused there ("token revoked") right after she clicks "Sign out", and her old
// cookie gets the sign-in page; signing in again shows her tasks. Over plain HTTP, the page
// rendered on the server for each cookie holds only that user's tasks. The app's task queries
// log in as `authenticator` only, never as the owner. The README's JavaScript blocks are its
// files' code, verbatim. Emits TAP.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { tap, done } from '../interop/lib/tap.mjs';
import { admin, dbUrl, dropAppDatabase, freePort, newSecret, scenario } from './lib/app.mjs';

const APP = fileURLToPath(new URL('../../examples/nextjs/', import.meta.url));
const NEXT = `${APP}node_modules/.bin/next`;
const DB = `ta_http_nextjs_${process.pid}`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const run = promisify(execFile);
const json = (x) => JSON.stringify(x);

// Polls fn until it returns true or timeoutMs passes; returns the last value.
async function until(fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v = false;
    try { v = await fn(); } catch { v = false; }
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// `next start` with env on 127.0.0.1:port, in a process group of its own; resolves once it
// answers, to { stop(), output() }.
async function startNext(env, port) {
  const child = spawn(NEXT, ['start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: APP, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const app = {
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = (signal) => { try { process.kill(-child.pid, signal); } catch { /* gone */ } };
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  const up = await until(async () => (await fetch(`http://127.0.0.1:${port}/`)).status === 200, 30000);
  if (!up) {
    await app.stop();
    throw new Error(`next start did not answer:\n${out}`);
  }
  return app;
}

await scenario(async (cleanup) => {
  // The README's JavaScript blocks, each a verbatim part of one of the app's files.
  const files = ['lib/auth.js', 'lib/tasks.js', 'app/page.js', 'app/actions.js', 'app/auth-forms.js',
    'app/api/auth/[...all]/route.js'];
  const sources = await Promise.all(files.map((f) => readFile(`${APP}${f}`, 'utf8')));
  const readme = await readFile(`${APP}README.md`, 'utf8');
  const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  tap(blocks.length >= 2 && blocks.every((b) => sources.some((s) => s.includes(b))),
    `the README's ${blocks.length} JavaScript blocks are verbatim parts of the app's files`,
    blocks.filter((b) => !sources.some((s) => s.includes(b))).join('\n---\n'));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const password = randomBytes(12).toString('hex');
  const env = {
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    BETTER_AUTH_URL: url,
    BETTER_AUTH_SECRET: newSecret(),
    AUTH_DATABASE_URL: dbUrl(DB),
    DATABASE_URL: dbUrl(DB, 'authenticator', password),
  };

  // The production build from scratch, timed.
  await rm(`${APP}.next`, { recursive: true, force: true });
  const started = Date.now();
  let build = '';
  try {
    build = (await run(NEXT, ['build'], { cwd: APP, env: { ...process.env, ...env }, maxBuffer: 1 << 24 })).stdout;
  } catch (e) {
    build = `${e.stdout}${e.stderr}`;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`# next build took ${seconds} s`);
  tap(/Compiled successfully/.test(build) && /ƒ \/\n/.test(build),
    `next build makes the production build, the tasks page rendered per request (${seconds} s)`, build);

  // The database, as the README sets it up.
  cleanup(() => dropAppDatabase(DB));
  const c = await admin();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DB}`);
  } finally {
    await c.end();
  }
  await run('node', ['migrate.mjs'], { cwd: APP, env: { ...process.env, ...env } });
  await run('psql', ['-d', DB, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `authenticator_password=${password}`,
    '-v', `app_url=${url}`, '-f', 'setup.sql'], { cwd: APP });
  const db = await admin(DB);
  cleanup(() => db.end());

  const app = await startNext(env, port);
  cleanup(() => app.stop());
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  cleanup(() => browser.close());

  // One user's page: sign up there, and what the list shows.
  const open = async (email) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    await page.goto(url);
    const form = page.getByRole('form', { name: 'Create an account' });
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Password').fill(`${email} password`);
    await form.getByRole('button', { name: 'Sign up' }).click();
    const signedIn = await until(() => page.getByText(`Signed in as ${email}`).isVisible());
    const list = page.getByRole('list', { name: 'Your tasks' });
    const titles = () => list.locator('.title').allInnerTexts();
    const add = async (title, description = '') => {
      const add = page.getByRole('form', { name: 'New task' });
      await add.getByLabel('Title').fill(title);
      await add.getByLabel('Description').fill(description);
      await add.getByRole('button', { name: 'Add task' }).click();
      return until(async () => (await titles()).some((t) => t.startsWith(title)));
    };
    return { context, page, list, signedIn, titles, add };
  };
  const shows = async (user, expected) => until(async () => json(await user.titles()) === json(expected));

  const alice = await open('alice@example.com');
  tap(alice.signedIn, 'Alice signs up on the page and is signed in',
    `${await alice.page.locator('body').innerText()}\n${app.output()}`);
  const added = [await alice.add('Buy milk', 'Oat, 2 litres'), await alice.add('Write tests'), await alice.add('Call mum')];
  tap(added.every(Boolean) && await shows(alice, ['Buy milk\nOat, 2 litres', 'Write tests', 'Call mum']),
    'she adds three tasks; the page lists them in order', json(await alice.titles()));
  await alice.list.getByRole('button', { name: 'Complete Buy milk' }).click();
  tap(await shows(alice, ['Buy milk (done)\nOat, 2 litres', 'Write tests', 'Call mum']) &&
      await alice.list.getByRole('button', { name: 'Reopen Buy milk' }).isVisible(),
  'she completes "Buy milk"', json(await alice.titles()));
  await alice.list.getByRole('button', { name: 'Delete Call mum' }).click();
  tap(await shows(alice, ['Buy milk (done)\nOat, 2 litres', 'Write tests']), 'she deletes "Call mum"',
    json(await alice.titles()));

  const bob = await open('bob@example.com');
  tap(bob.signedIn && await bob.list.count() === 1 && json(await bob.titles()) === '[]' &&
      await bob.page.getByText('No tasks yet.').isVisible(),
  'Bob signs up in a fresh browser context and sees none of her tasks', json(await bob.titles()));
  await bob.add('Walk the dog');
  await alice.page.reload();
  tap(await shows(bob, ['Walk the dog']) && await shows(alice, ['Buy milk (done)\nOat, 2 litres', 'Write tests']),
    'he adds one; each page lists only its own user\'s tasks', `${json(await bob.titles())} ${json(await alice.titles())}`);

  const rows = (await db.query(`SELECT u.email, t.title, t.is_completed FROM taskauth.tasks t
    JOIN public."user" u ON u.id::uuid = t.user_id ORDER BY t.created_at`)).rows;
  tap(json(rows) === json([
    { email: 'alice@example.com', title: 'Buy milk', is_completed: true },
    { email: 'alice@example.com', title: 'Write tests', is_completed: false },
    { email: 'bob@example.com', title: 'Walk the dog', is_completed: false },
  ]), 'the database holds each task under its owner, as Better Auth knows them', json(rows));

  // Over plain HTTP: the page the server renders for each cookie.
  const cookieOf = async (user) => (await user.context.cookies()).map((k) => `${k.name}=${k.value}`).join('; ');
  const pageFor = async (cookie) => (await fetch(url, { headers: { cookie } })).text();
  const aliceCookie = await cookieOf(alice);
  const [aliceHtml, bobHtml, anonymousHtml] = await Promise.all([pageFor(aliceCookie), pageFor(await cookieOf(bob)), pageFor('')]);
  tap(aliceHtml.includes('Write tests') && !aliceHtml.includes('Walk the dog') &&
      bobHtml.includes('Walk the dog') && !bobHtml.includes('Write tests') &&
      anonymousHtml.includes('Create an account') && !/Walk the dog|Write tests/.test(anonymousHtml),
  'over HTTP, the server-rendered page holds only the cookie\'s user\'s tasks, and none without a cookie');

  // The task queries log in as authenticator and nothing else (Better Auth's pool as the owner).
  const roles = (await db.query(`SELECT DISTINCT application_name, usename FROM pg_stat_activity
    WHERE datname = $1 AND application_name LIKE 'nextjs-%' ORDER BY 1`, [DB])).rows;
  tap(json(roles) === json([{ application_name: 'nextjs-auth', usename: process.env.PGUSER || 'postgres' },
    { application_name: 'nextjs-tasks', usename: 'authenticator' }]),
  'the app\'s task connections are authenticator\'s (no rights of its own), Better Auth\'s the owner\'s', json(roles));

  // Sign-out: a token of Alice's session works in the database until she clicks "Sign out".
  const token = await alice.page.evaluate(async () => (await (await fetch('/api/auth/token')).json()).token);
  const authenticate = async () => {
    await db.query('BEGIN');
    try {
      await db.query('SET LOCAL ROLE web');
      return (await db.query('SELECT taskauth.authenticate($1) AS id', [token])).rows[0].id;
    } catch (e) {
      return e.message;
    } finally {
      await db.query('ROLLBACK');
    }
  };
  const aliceId = (await db.query(`SELECT id FROM public."user" WHERE email = 'alice@example.com'`)).rows[0].id;
  const before = await authenticate();
  await alice.page.getByRole('button', { name: 'Sign out' }).click();
  const signedOut = await until(() => alice.page.getByRole('form', { name: 'Sign in' }).isVisible());
  const after = await authenticate();
  tap(before === aliceId && signedOut && after === 'token revoked',
    'a token of her session authenticates in the database; right after "Sign out", it is refused ("token revoked")',
    `${before} / ${signedOut} / ${after}`);
  const oldCookie = await pageFor(aliceCookie);
  tap(oldCookie.includes('Create an account') && !oldCookie.includes('Buy milk'),
    'her old cookie now gets the sign-in page, none of her tasks');

  const signIn = alice.page.getByRole('form', { name: 'Sign in' });
  await signIn.getByLabel('Email').fill('alice@example.com');
  await signIn.getByLabel('Password').fill('wrong password');
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  tap(await until(async () => /invalid email or password/i.test(await alice.page.getByRole('main').getByRole('alert').textContent())),
    'a wrong password is refused on the page', await alice.page.getByRole('main').getByRole('alert').textContent().catch((e) => e.message));
  await signIn.getByLabel('Password').fill('alice@example.com password');
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  tap(await shows(alice, ['Buy milk (done)\nOat, 2 litres', 'Write tests']),
    'signed in again, she sees her tasks as she left them', json(await alice.titles()));

  await app.stop();
  tap(!/Error|⨯/.test(app.output()), 'the server logged no error', app.output());
}, { tap, done });
