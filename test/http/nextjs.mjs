#!/usr/bin/env node
// examples/nextjs, the original design's frontend on taskauth, the way `make serve-next` runs it:
// its script with a taken port exits 1 at once; what it runs in its cluster (here the test
// cluster) sets the database up as the README says (`node migrate.mjs`, setup.sql), makes the
// production build from scratch (`next build`, timed), starts `next start` on a loopback port
// and prints the URL and two demo accounts. In headless Chromium (the Debian package, driven by
// playwright-core): Alice signs in, adds, completes and deletes tasks; Carol signs up in a fresh
// context and sees none of hers, and she none of Carol's; Bob signs in at localhost; the
// database holds each task under its owner. Signing out takes effect at once: a token of
// Alice's session that authenticated in the database just before is refused there ("token
// revoked") right after she clicks "Sign out", and her old cookie gets the sign-in page; a wrong
// password (counted in taskauth's per-email login throttle) and Better Auth's rate limit (not
// counted) show on the page; signing in again shows her tasks and takes her count back. Five
// wrong passwords for one email, each with another X-Forwarded-For (a fresh count for Better
// Auth's per-address limiter every time), lock it: the right password then gets 429 from
// taskauth's throttle, over HTTP and on the page; an email with no account gets the same answers.
// With Better Auth's tables owned by a role of their own, setup.sql grants that role the
// throttle's two functions.
// Over plain HTTP, the page rendered on the server for each cookie holds only that user's
// tasks, and server actions posted with another user's task ids change nothing. The app's task
// queries log in as `authenticator` only, never as the owner. SIGTERM stops it all. The
// README's JavaScript blocks are its files' code, verbatim. Emits TAP.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { tap, done } from '../interop/lib/tap.mjs';
import { admin, dbUrl, dropAppDatabase, freePort, newSecret, scenario } from './lib/app.mjs';

const APP = fileURLToPath(new URL('../../examples/nextjs/', import.meta.url));
const DB = 'tasks'; // the database examples/nextjs/serve makes
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
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

// Runs examples/nextjs/serve (what `make serve-next` runs) with args and env; a promise of
// { code, out, ms } once it exits, with .child, the process, and .out(), its output so far.
function serve(args, env) {
  const started = Date.now();
  const child = spawn(`${APP}serve`, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const result = new Promise((resolve) => child.once('exit', (code, signal) =>
    resolve({ code: code ?? signal, out, ms: Date.now() - started })));
  return Object.assign(result, { child, out: () => out });
}

// Listens on 127.0.0.1:port; resolves to the server (close it to free the port).
function hold(port) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
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

  // A taken port: `make serve-next`'s script stops at once, before installing or building.
  const taken = await freePort();
  const holder = await hold(taken);
  const refused = await serve([], { PORT: String(taken) });
  holder.close();
  tap(refused.code === 1 && refused.ms < 5000 &&
      refused.out.includes(`port ${taken} is in use on 127.0.0.1`) && !refused.out.includes('install-deps'),
  `with its port taken, make serve-next's script exits 1 at once, naming the port (${refused.ms} ms)`, refused.out);

  // What `make serve-next` runs in its cluster, here in the test cluster.
  const state = await mkdtemp(join(tmpdir(), 'ta-http-nextjs-'));
  cleanup(() => rm(state, { recursive: true, force: true }));
  cleanup(() => dropAppDatabase(DB));
  await rm(`${APP}.next`, { recursive: true, force: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const served = serve(['--in-cluster', state], { PORT: String(port) });
  cleanup(async () => { served.child.kill('SIGTERM'); await served; });
  const log = () => { try { return readFileSync(join(state, 'app.log'), 'utf8'); } catch { return ''; } };
  const ready = await until(() => served.out().includes(`running at ${url}`) || served.child.exitCode !== null, 240000);
  const built = /built in (\d+) s/.exec(served.out())?.[1];
  console.log(`# next build took ${built} s`);
  tap(ready && served.child.exitCode === null && built !== undefined &&
      served.out().includes('alice@example.com  alice-demo-password'),
  `it builds (next build: ${built} s), starts next start and prints the URL and the demo accounts`, served.out());
  if (!ready || served.child.exitCode !== null) throw new Error('make serve-next did not start');
  const db = await admin(DB);
  cleanup(() => db.end());
  // An email's state in taskauth's per-email login throttle (no row: nothing counted).
  const throttle = async (email) => (await db.query(
    `SELECT failures, coalesce(locked_until > clock_timestamp(), false) AS locked FROM taskauth.login_throttle
      WHERE key = sha256(convert_to(lower($1), 'UTF8'))`, [email])).rows;

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  cleanup(() => browser.close());

  // One user's page: sign in there (or sign up, without a password), and what the list shows.
  const open = async (email, password, at = url) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    await page.goto(at);
    const form = page.getByRole('form', { name: password ? 'Sign in' : 'Create an account' });
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Password').fill(password ?? `${email} password`);
    await form.getByRole('button', { name: password ? 'Sign in' : 'Sign up' }).click();
    const signedIn = await until(() => page.getByText(`Signed in as ${email}`).isVisible());
    const list = page.getByRole('list', { name: 'Your tasks' });
    const titles = () => list.locator('.title').allInnerTexts();
    const add = async (title, description = '') => {
      const form = page.getByRole('form', { name: 'New task' });
      await form.getByLabel('Title').fill(title);
      await form.getByLabel('Description').fill(description);
      await form.getByRole('button', { name: 'Add task' }).click();
      return until(async () => (await titles()).some((t) => t.startsWith(title)));
    };
    return { context, page, list, signedIn, titles, add };
  };
  const shows = async (user, expected) => until(async () => json(await user.titles()) === json(expected));

  const alice = await open('alice@example.com', 'alice-demo-password');
  tap(alice.signedIn, 'Alice (a demo account) signs in on the page',
    `${await alice.page.locator('body').innerText()}\n${log()}`);
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

  const carol = await open('carol@example.com');
  tap(carol.signedIn && await carol.list.count() === 1 && json(await carol.titles()) === '[]' &&
      await carol.page.getByText('No tasks yet.').isVisible(),
  'Carol signs up on the page, in a fresh browser context, and sees none of Alice\'s tasks', json(await carol.titles()));
  await carol.add('Walk the dog');
  await alice.page.reload();
  tap(await shows(carol, ['Walk the dog']) && await shows(alice, ['Buy milk (done)\nOat, 2 litres', 'Write tests']),
    'Carol adds one; each page lists only its own user\'s tasks', `${json(await carol.titles())} ${json(await alice.titles())}`);

  // The other demo account, from a page at http://localhost:PORT (an origin Better Auth trusts
  // because serve names it).
  const bob = await open('bob@example.com', 'bob-demo-password', `http://localhost:${port}`);
  tap(bob.signedIn && await shows(bob, []) && new URL(bob.page.url()).hostname === 'localhost',
    'Bob (the other demo account) signs in from a page at http://localhost:PORT and has no tasks',
    await bob.page.locator('body').innerText());
  await bob.context.close();

  const rows = (await db.query(`SELECT u.email, t.title, t.is_completed FROM taskauth.tasks t
    JOIN public."user" u ON u.id::uuid = t.user_id ORDER BY t.created_at`)).rows;
  tap(json(rows) === json([
    { email: 'alice@example.com', title: 'Buy milk', is_completed: true },
    { email: 'alice@example.com', title: 'Write tests', is_completed: false },
    { email: 'carol@example.com', title: 'Walk the dog', is_completed: false },
  ]), 'the database holds each task under its owner, as Better Auth knows them', json(rows));

  // Over plain HTTP: the page the server renders for each cookie.
  const cookieOf = async (user) => (await user.context.cookies()).map((k) => `${k.name}=${k.value}`).join('; ');
  const pageFor = async (cookie) => (await fetch(url, { headers: { cookie } })).text();
  const aliceCookie = await cookieOf(alice);
  const [aliceHtml, carolHtml, anonymousHtml] = await Promise.all([pageFor(aliceCookie), pageFor(await cookieOf(carol)), pageFor('')]);
  tap(aliceHtml.includes('Write tests') && !aliceHtml.includes('Walk the dog') &&
      carolHtml.includes('Walk the dog') && !carolHtml.includes('Write tests') &&
      anonymousHtml.includes('Create an account') && !/Walk the dog|Write tests/.test(anonymousHtml),
  'over HTTP, the server-rendered page holds only the cookie\'s user\'s tasks, and none without a cookie');

  // A server action's bound arguments come from the client: the page's forms carry them as
  // hidden fields, and Carol posts her own Complete and Delete forms (without JavaScript, as a
  // browser does) with Alice's task ids in them. Row-level security leaves Alice's tasks alone;
  // the same Delete form with Carol's own id deletes hers.
  const unescape = (v) => v.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const postForm = async (cookie, button, args) => {
    const form = [...(await pageFor(cookie)).matchAll(/<form[^>]*>.*?<\/form>/g)].map((m) => m[0])
      .find((f) => f.includes(`aria-label="${button}"`));
    if (form === undefined) throw new Error(`no form with the button "${button}"`);
    const body = new FormData();
    for (const [, name, value = ''] of form.matchAll(/<input type="hidden" name="([^"]*)"(?: value="([^"]*)")?\/>/g))
      body.append(name, /^\$ACTION_\d+:1$/.test(name) ? json(args) : unescape(value));
    return (await fetch(url, { method: 'POST', headers: { cookie, origin: url }, body })).status;
  };
  const taskId = async (title) => (await db.query('SELECT id FROM taskauth.tasks WHERE title = $1', [title])).rows[0]?.id;
  const carolCookie = await cookieOf(carol);
  const statuses = [await postForm(carolCookie, 'Complete Walk the dog', [await taskId('Write tests'), true]),
    await postForm(carolCookie, 'Delete Walk the dog', [await taskId('Buy milk')])];
  const aliceRows = json((await db.query(`SELECT title, is_completed FROM taskauth.tasks
    WHERE title IN ('Buy milk', 'Write tests') ORDER BY created_at`)).rows);
  const walk = await taskId('Walk the dog');
  statuses.push(await postForm(carolCookie, 'Delete Walk the dog', [walk]));
  tap(statuses.every((st) => st === 200) && walk !== undefined &&
      aliceRows === json([{ title: 'Buy milk', is_completed: true }, { title: 'Write tests', is_completed: false }]) &&
      await taskId('Walk the dog') === undefined,
  'Carol\'s Complete and Delete forms posted with Alice\'s task ids change nothing; with her own id, Delete deletes hers',
  `${statuses} ${aliceRows} ${await taskId('Walk the dog')}`);

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
  const alert = alice.page.getByRole('main').getByRole('alert');
  await signIn.getByLabel('Email').fill('alice@example.com');
  await signIn.getByLabel('Password').fill('wrong password');
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  tap(await until(async () => /invalid email or password/i.test(await alert.textContent())) &&
      json(await throttle('alice@example.com')) === json([{ failures: 1, locked: false }]),
  'a wrong password is refused on the page and counted in taskauth\'s per-email throttle',
  `${await alert.textContent().catch((e) => e.message)} ${json(await throttle('alice@example.com'))}`);
  // Better Auth's rate limiter (on in production): Alice's, Bob's and the wrong sign-in were three
  // from this address in a row, less than 10 s apart; the fourth is refused until 10 s have
  // passed since the last one let through.
  await signIn.getByLabel('Password').fill('alice-demo-password');
  const limited = Date.now();
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  tap(await until(async () => await alert.textContent() === 'Too many requests. Please try again later.') &&
      json(await throttle('alice@example.com')) === json([{ failures: 1, locked: false }]),
  'a fourth sign-in from one address within 10 s is refused by Better Auth\'s rate limiter, on the page (not counted per email)',
  `${await alert.textContent().catch((e) => e.message)} ${json(await throttle('alice@example.com'))}`);
  await new Promise((r) => setTimeout(r, Math.max(0, limited + 10500 - Date.now())));
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  tap(await shows(alice, ['Buy milk (done)\nOat, 2 litres', 'Write tests']) && (await throttle('alice@example.com')).length === 0,
    'after 10 s, signed in again, she sees her tasks as she left them; the sign-in took her count back',
    `${json(await alice.titles())} ${json(await throttle('alice@example.com'))}`);

  // A guesser who sends another X-Forwarded-For with each attempt gets a fresh count from Better
  // Auth's rate limiter every time, but not from taskauth's per-email throttle: five wrong
  // passwords lock the email, and the right one is refused then, from any address. An email with
  // no account (Dave never signed up) gets the same answers, so none tells which accounts exist.
  let address = 0;
  const guess = async (email, password) => {
    address += 1;
    const r = await fetch(`${url}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url, 'x-forwarded-for': `203.0.113.${address}` },
      body: json({ email, password }),
    });
    return { status: r.status, retry: r.headers.get('x-retry-after'), body: await r.json().catch(() => null) };
  };
  const guesses = async (email) => {
    const wrong = [];
    for (let i = 1; i <= 5; i++) wrong.push(await guess(email, `wrong password ${i}`));
    return { wrong, right: await guess(email, email === 'bob@example.com' ? 'bob-demo-password' : 'dave-password') };
  };
  const lockedOut = (g) => g.wrong.every((w) => w.status === 401 && json(w.body) === json(g.wrong[0].body)) &&
    g.right.status === 429 && Number(g.right.retry) >= 1 && Number(g.right.retry) <= 30 &&
    g.right.body?.code === 'TOO_MANY_FAILED_SIGN_INS' &&
    g.right.body?.message === `Too many failed sign-ins for this email. Try again in ${g.right.retry} seconds.`;
  const bobGuesses = await guesses('bob@example.com');
  const bobRows = await throttle('bob@example.com');
  tap(lockedOut(bobGuesses) && json(bobRows) === json([{ failures: 5, locked: true }]),
    'five wrong passwords for Bob, each with another X-Forwarded-For, get 401 and lock his email; ' +
    'his right password, from a sixth address, gets 429 (X-Retry-After)', `${json(bobGuesses)} ${json(bobRows)}`);
  const daveGuesses = await guesses('dave@example.com');
  const same = (a, b) => json({ ...a, retry: null }) === json({ ...b, retry: null });
  tap(lockedOut(daveGuesses) && same(daveGuesses.wrong[0], bobGuesses.wrong[0]) &&
      json(await throttle('dave@example.com')) === json([{ failures: 5, locked: true }]),
  'an email with no account gets the same 401s, then the same 429', json(daveGuesses));
  // On the page, from the browser's own address: the lock refuses Bob's right password.
  const bobPage = await (await browser.newContext()).newPage();
  bobPage.setDefaultTimeout(15000);
  await bobPage.goto(url);
  const bobForm = bobPage.getByRole('form', { name: 'Sign in' });
  await bobForm.getByLabel('Email').fill('bob@example.com');
  await bobForm.getByLabel('Password').fill('bob-demo-password');
  await bobForm.getByRole('button', { name: 'Sign in' }).click();
  const bobAlert = bobPage.getByRole('main').getByRole('alert');
  tap(await until(async () => /^Too many failed sign-ins for this email\. Try again in \d+ seconds\.$/.test(await bobAlert.textContent())) &&
      !await bobPage.getByText('Signed in as').isVisible(),
  'on the page, Bob\'s right password is refused while his email is locked, with the lock\'s message',
  await bobAlert.textContent().catch((e) => e.message));

  // SIGTERM (what Ctrl-C leads to) stops the app and the script: exit 0, the port free again.
  await browser.close();
  served.child.kill('SIGTERM');
  const stopped = await served;
  const free = await hold(port).then((h) => { h.close(); return true; }, () => false);
  tap(stopped.code === 0 && free, 'SIGTERM stops it: exit status 0, nothing listens on its port any more',
    `${stopped.code} ${free}\n${stopped.out}`);
  tap(log().includes('Ready in') && !/Error|⨯/.test(log()), 'the app logged no error', log());

  // setup.sql where Better Auth's tables belong to a role of their own, not to the extension's
  // owner (the README's "Running it by hand"): it grants that role the throttle's two functions,
  // and the role counts a sign-in and takes it back, as the hooks do on its connection.
  const OWNER = `ta_nextjs_auth_${process.pid}`;
  const SCRATCH = `ta_nextjs_grants_${process.pid}`;
  const root = await admin();
  cleanup(async () => {
    await root.query(`DROP DATABASE IF EXISTS ${SCRATCH} WITH (FORCE)`);
    await root.query(`DROP ROLE IF EXISTS ${OWNER}`);
    await root.end();
  });
  const ownerPassword = newSecret();
  await root.query(`CREATE ROLE ${OWNER} LOGIN PASSWORD '${ownerPassword}'`);
  await root.query(`CREATE DATABASE ${SCRATCH} OWNER ${OWNER}`);
  const ownerUrl = dbUrl(SCRATCH, OWNER, ownerPassword);
  const run = promisify(execFile);
  await run('node', ['migrate.mjs'], {
    cwd: APP, env: { ...process.env, AUTH_DATABASE_URL: ownerUrl, BETTER_AUTH_URL: url, BETTER_AUTH_SECRET: newSecret() },
  });
  await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', SCRATCH, '-v', `authenticator_password=${newSecret()}`,
    '-v', `app_url=${url}`, '-f', `${APP}setup.sql`]);
  const asOwner = new pg.Client({ connectionString: ownerUrl });
  await asOwner.connect();
  const calls = [];
  try {
    for (const f of ['count_issuer_login_attempt', 'issuer_login_succeeded']) {
      await asOwner.query(`SELECT taskauth.${f}('erin@example.com')`);
      const scratch = await admin(SCRATCH);
      try {
        calls.push((await scratch.query(`SELECT failures FROM taskauth.login_throttle
          WHERE key = sha256(convert_to('erin@example.com', 'UTF8'))`)).rows.map((r) => r.failures));
      } finally {
        await scratch.end();
      }
    }
  } catch (e) {
    calls.push(e.message);
  } finally {
    await asOwner.end();
  }
  tap(json(calls) === json([[1], []]),
    'with Better Auth\'s tables owned by a role of its own, setup.sql grants it the throttle\'s functions: ' +
    'it counts a sign-in and takes it back', json(calls));
}, { tap, done });
