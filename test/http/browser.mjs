#!/usr/bin/env node
// The example app's page in a real browser: headless Chromium (the Debian package, driven by
// playwright-core, never a downloaded browser). Alice signs up, adds three tasks, completes one,
// edits one, deletes one (the page asks first, and "Keep" keeps it), reloads (state kept) and
// signs out; the token her page used last is then refused by the API (401 "token revoked"),
// not only forgotten by the page. A wrong password is named as such, and named again visibly
// when repeated; the message goes once she types in the other form. Bob, in a fresh browser
// context, sees none of her tasks; a request the API refuses and an expired session show their
// messages. Dora, a demo account the app runs with (DEMO_ACCOUNTS), is shown on the page, which
// she opens at http://localhost:PORT and signs in from; at 380 px wide, "Sign out" stays on one
// line. Wrong passwords in a row end in the rate limit's message. Elements are found by role and
// label only. A screenshot of each step is saved under a
// temporary folder named in the output. Emits TAP.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, graphql, newSecret, scenario, signUp, startApp,
} from './lib/app.mjs';

const DB = `ta_http_browser_${process.pid}`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOKEN_LIFETIME = 4; // seconds: the page renews its token from the session as it goes
const DORA = { email: 'dora.demo-account@example.com', password: 'dora-demo-password' };

// Polls fn until it returns true or timeoutMs passes; returns the last value.
async function until(fn, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v = false;
    try { v = await fn(); } catch (e) { if (process.env.DEBUG_UNTIL) console.error(e.message); v = false; }
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

await scenario(async (cleanup) => {
  const shots = await mkdtemp(join(tmpdir(), 'ta-http-browser-'));
  console.log(`# screenshots: ${shots}`);
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl, signingSecret: newSecret(), authSecret: newSecret() });
  const db = await admin(DB);
  cleanup(() => db.end());
  // No clock leeway, so that a token is refused as soon as it expires.
  await db.query(`ALTER DATABASE ${DB} SET taskauth.leeway = 0`);
  const app = await startApp({ ...env, PORT: String(port), AUTH_JWT_EXPIRATION: `${TOKEN_LIFETIME}s`,
    DEMO_ACCOUNTS: `${DORA.email}:${DORA.password}` });
  cleanup(() => app.stop());
  await signUp(app.url, DORA.email, DORA.password);

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  cleanup(() => browser.close());
  let step = 0;
  const shot = (page, name) => page.screenshot({ path: join(shots, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });

  // Alice ---------------------------------------------------------------------------------------
  const alice = await browser.newContext();
  const page = await alice.newPage();
  page.setDefaultTimeout(10000);
  // the bearer tokens her page sends to the API, newest last
  const sent = [];
  page.on('request', (req) => {
    const auth = req.headers().authorization;
    if (req.url().endsWith('/graphql') && auth?.startsWith('Bearer ')) sent.push(auth.slice(7));
  });
  await page.goto(app.url);
  const signUpForm = page.getByRole('form', { name: 'Create an account' });
  await signUpForm.waitFor();
  await shot(page, 'signed-out');
  await signUpForm.getByLabel('Email').fill('alice@example.com');
  await signUpForm.getByLabel('Password').fill('correct horse battery staple');
  await signUpForm.getByRole('button', { name: 'Sign up' }).click();
  const tasksHeading = page.getByRole('heading', { name: 'Your tasks' });
  const signedIn = await until(() => tasksHeading.isVisible());
  tap(signedIn && await page.getByText('Signed in as alice@example.com').isVisible(),
    'Alice signs up through the page and is signed in');
  await shot(page, 'signed-up');

  const list = page.getByRole('list', { name: 'Your tasks' });
  const box = (title) => list.getByRole('checkbox', { name: title, exact: true });
  const addForm = page.getByRole('form', { name: 'New task' });
  const add = async (title, description) => {
    await addForm.getByLabel('Title').fill(title);
    await addForm.getByLabel('Description').fill(description ?? '');
    await addForm.getByRole('button', { name: 'Add task' }).click();
    return until(() => box(title).isVisible());
  };
  // The list as a screen reader gets it (one atomic read): {title: checked}.
  const state = async () => {
    const out = {};
    for (const m of (await list.ariaSnapshot()).matchAll(/- checkbox "([^"]*)"( \[checked\])?/g)) out[m[1]] = !!m[2];
    return JSON.stringify(out);
  };
  const added = [await add('Buy milk', 'Oat, 2 litres'), await add('Write tests'), await add('Call mum')];
  tap(added.every(Boolean) && await state() === JSON.stringify({ 'Buy milk': false, 'Write tests': false, 'Call mum': false }),
    'she adds three tasks; the list shows them in order', await state());
  await shot(page, 'three-tasks');

  await box('Buy milk').check();
  tap(await until(async () => await state() === JSON.stringify({ 'Buy milk': true, 'Write tests': false, 'Call mum': false })),
    'she completes "Buy milk"', await state());
  await shot(page, 'completed');

  await list.getByRole('button', { name: 'Edit Write tests' }).click();
  const edit = page.getByRole('form', { name: 'Edit Write tests' });
  await edit.getByLabel('Title').fill('Write more tests');
  await edit.getByLabel('Description').fill('for the browser');
  await shot(page, 'editing');
  await edit.getByRole('button', { name: 'Save' }).click();
  tap(await until(() => box('Write more tests').isVisible()) && await list.getByText('for the browser').isVisible(),
    'she edits the title and description of "Write tests"', await state());
  await shot(page, 'edited');

  // Delete asks first; "Keep" keeps the task.
  const stored = async () => (await db.query('SELECT title FROM taskauth.tasks ORDER BY created_at')).rows.map((r) => r.title);
  await list.getByRole('button', { name: 'Delete Call mum' }).click();
  const question = list.getByRole('group', { name: 'Delete Call mum?' });
  tap(await until(() => question.isVisible()) &&
      await question.getByText('Delete “Call mum”? This cannot be undone.').isVisible() &&
      JSON.stringify(await stored()) === JSON.stringify(['Buy milk', 'Write more tests', 'Call mum']),
  'Delete asks first ("Delete “Call mum”? This cannot be undone."); the task is still stored', JSON.stringify(await stored()));
  await shot(page, 'delete-asks');
  await question.getByRole('button', { name: 'Keep Call mum' }).click();
  tap(await until(async () => await state() === JSON.stringify({ 'Buy milk': true, 'Write more tests': false, 'Call mum': false })) &&
      JSON.stringify(await stored()) === JSON.stringify(['Buy milk', 'Write more tests', 'Call mum']),
  '"Keep" keeps it', await state());
  await list.getByRole('button', { name: 'Delete Call mum' }).click();
  await list.getByRole('button', { name: 'Yes, delete Call mum' }).click();
  tap(await until(async () => await state() === JSON.stringify({ 'Buy milk': true, 'Write more tests': false }) &&
      await page.getByRole('alert').textContent() === 'Deleted “Call mum”.'), 'she deletes "Call mum" when she confirms',
  `${await state()} ${await page.getByRole('alert').textContent()}`);
  await shot(page, 'deleted');

  const rows = (await db.query('SELECT title, description, is_completed FROM taskauth.tasks ORDER BY created_at')).rows;
  tap(JSON.stringify(rows) === JSON.stringify([
    { title: 'Buy milk', description: 'Oat, 2 litres', is_completed: true },
    { title: 'Write more tests', description: 'for the browser', is_completed: false }]),
  'the database holds what the page shows', JSON.stringify(rows));

  // Tokens last TOKEN_LIFETIME seconds here: outlive one, then reload.
  await new Promise((r) => setTimeout(r, TOKEN_LIFETIME * 1000 + 500));
  await page.reload();
  tap(await until(async () => await state() === JSON.stringify({ 'Buy milk': true, 'Write more tests': false })) &&
      await page.getByText('Signed in as alice@example.com').isVisible(),
  'after a reload she is still signed in and her tasks are as she left them', await state());
  await shot(page, 'reloaded');

  // The token her page sent last, replayed outside the page: it works until she signs out.
  const lastToken = sent.at(-1);
  const titles = async () => (await graphql(app.url, '{ allTasks { nodes { title } } }', {}, lastToken));
  let replay = await titles();
  tap(replay.status === 200 && replay.body?.data?.allTasks?.nodes?.length === 2,
    'the token her page sent last, replayed outside the page, lists her tasks', replay.text);
  await page.getByRole('button', { name: 'Sign out' }).click();
  const signInForm = page.getByRole('form', { name: 'Sign in' });
  tap(await until(() => signInForm.isVisible()) && !(await list.isVisible()) &&
      await page.getByRole('alert').textContent() === 'You are signed out.', 'she signs out');
  await shot(page, 'signed-out-again');
  replay = await titles();
  tap(replay.status === 401 && replay.body?.errors?.[0]?.message === 'token revoked',
    'after "Sign out", that token replayed gets 401 "token revoked": signing out signed it out of the API', replay.text);
  await page.reload();
  tap(await until(() => signInForm.isVisible()) && !(await tasksHeading.isVisible()), 'and stays signed out after a reload');

  await signInForm.getByLabel('Email').fill('alice@example.com');
  await signInForm.getByLabel('Password').fill('not her password');
  await signInForm.getByRole('button', { name: 'Sign in' }).click();
  tap(await until(async () => await page.getByRole('alert').textContent() === 'Wrong email or password.'),
    'a wrong password: "Wrong email or password."', await page.getByRole('alert').textContent());
  await shot(page, 'wrong-password');
  // The same mistake again: the message changes, so that it visibly came again.
  await signInForm.getByRole('button', { name: 'Sign in' }).click();
  const again = 'Wrong email or password. (2 times in a row)';
  tap(await until(async () => await page.getByRole('alert').textContent() === again),
    `the same wrong password again: "${again}"`, await page.getByRole('alert').textContent());
  await shot(page, 'wrong-password-again');
  // She turns to the other form: the sign-in error is stale there and goes.
  await page.getByRole('form', { name: 'Create an account' }).getByLabel('Email').fill('alice2@example.com');
  tap(await until(async () => await page.getByRole('alert').textContent() === ''),
    'typing in the sign-up form clears the sign-in error', await page.getByRole('alert').textContent());
  await alice.close();

  // Dora, a demo account, at http://localhost:PORT ------------------------------------------
  const local = `http://localhost:${port}`;
  const dora = await browser.newContext({ viewport: { width: 380, height: 720 } });
  const page3 = await dora.newPage();
  page3.setDefaultTimeout(10000);
  await page3.goto(local);
  const demo = page3.getByRole('region', { name: 'Demo accounts' });
  tap(await until(() => demo.isVisible()) && await demo.getByText(`${DORA.email} / ${DORA.password}`).isVisible(),
    'the page lists the demo accounts the app runs with', await demo.textContent().catch((e) => e.message));
  await shot(page3, 'demo-accounts');
  await demo.getByRole('button', { name: `Use ${DORA.email}` }).click();
  const doraSignIn = page3.getByRole('form', { name: 'Sign in' });
  tap(await doraSignIn.getByLabel('Email').inputValue() === DORA.email &&
      await doraSignIn.getByLabel('Password').inputValue() === DORA.password,
  '"Use" fills the sign-in form in with the account');
  await doraSignIn.getByRole('button', { name: 'Sign in' }).click();
  tap(await until(() => page3.getByText(`Signed in as ${DORA.email}`).isVisible()) &&
      await until(() => page3.getByText('No tasks yet.').isVisible()),
  `the page opened at ${local}: she signs in there (Better Auth trusts that origin) and the API answers`,
  await page3.getByRole('alert').textContent());
  // 380 px wide: "Sign out" stays one line, and nothing is wider than the window.
  const layout = await page3.getByRole('button', { name: 'Sign out' }).evaluate((b) => {
    const range = document.createRange();
    range.selectNodeContents(b);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    const lineHeight = Number.parseFloat(getComputedStyle(b).lineHeight);
    return { lines, height: b.getBoundingClientRect().height, lineHeight, right: b.getBoundingClientRect().right,
      width: document.documentElement.scrollWidth, viewport: window.innerWidth };
  });
  tap(layout.viewport === 380 && layout.lines === 1 && layout.height < 2 * layout.lineHeight &&
      layout.right <= 380 && layout.width <= 380,
  `at 380 px wide, "Sign out" is one line (${layout.lines} line, ${Math.round(layout.height)} px high) and the page fits`,
  JSON.stringify(layout));
  await shot(page3, 'narrow-380');
  await dora.close();

  // Bob, in a fresh browser context -------------------------------------------------------------
  const bob = await browser.newContext();
  const page2 = await bob.newPage();
  page2.setDefaultTimeout(10000);
  await page2.goto(app.url);
  const bobSignUp = page2.getByRole('form', { name: 'Create an account' });
  await bobSignUp.getByLabel('Email').fill('alice@example.com');
  await bobSignUp.getByLabel('Password').fill('hunter2 hunter2 hunter2');
  await bobSignUp.getByRole('button', { name: 'Sign up' }).click();
  tap(await until(async () => /already exists.*[^.]\.$/.test(await page2.getByRole('alert').textContent())) &&
      await bobSignUp.isVisible(), "signing up with Alice's email is refused with Better Auth's reason",
  await page2.getByRole('alert').textContent());
  await bobSignUp.getByLabel('Email').fill('bob@example.com');
  await bobSignUp.getByLabel('Password').fill('hunter2 hunter2 hunter2');
  await bobSignUp.getByRole('button', { name: 'Sign up' }).click();
  const list2 = page2.getByRole('list', { name: 'Your tasks' });
  tap(await until(() => page2.getByText('No tasks yet.').isVisible()) && await list2.getByRole('listitem').count() === 0 &&
      !(await page2.getByText('Buy milk').isVisible()), 'Bob, signed up in a fresh context, sees none of her tasks');
  await shot(page2, 'bob-empty');

  const addForm2 = page2.getByRole('form', { name: 'New task' });
  await addForm2.getByLabel('Title').fill('Fix bike');
  await addForm2.getByRole('button', { name: 'Add task' }).click();
  tap(await until(() => list2.getByRole('checkbox', { name: 'Fix bike' }).isVisible()), 'Bob adds a task of his own');

  // A refused request: the task is deleted elsewhere (another tab, say) while his page shows it.
  await db.query("DELETE FROM taskauth.tasks WHERE title = 'Fix bike'");
  await list2.getByRole('button', { name: 'Edit Fix bike' }).click();
  const edit2 = page2.getByRole('form', { name: 'Edit Fix bike' });
  await edit2.getByLabel('Title').fill('Fix bike today');
  await edit2.getByRole('button', { name: 'Save' }).click();
  const refused = 'The request was refused: that task does not exist or is not yours.';
  tap(await until(async () => await page2.getByRole('alert').textContent() === refused),
    `a refused request: "${refused}"`, await page2.getByRole('alert').textContent());
  await shot(page2, 'refused');

  // An expired session: Better Auth's session ends (deleted here, as an administrator would
  // revoke it) and his token runs out; the next request says so and shows the sign-in form.
  await db.query(`DELETE FROM public.session WHERE "userId" = (SELECT id FROM public."user" WHERE email = 'bob@example.com')`);
  await new Promise((r) => setTimeout(r, TOKEN_LIFETIME * 1000 + 500));
  await page2.getByRole('button', { name: 'Cancel' }).click();
  const expired = 'Your session has expired. Please sign in again.';
  tap(await until(async () => await page2.getByRole('alert').textContent() === expired) &&
      await page2.getByRole('form', { name: 'Sign in' }).isVisible(),
  `an expired session: "${expired}" and the sign-in form`, await page2.getByRole('alert').textContent());
  await shot(page2, 'session-expired');
  const bobRows = (await db.query(`SELECT count(*)::int AS n FROM taskauth.tasks t JOIN taskauth.users u ON u.id = t.user_id
    WHERE u.email = 'bob@example.com'`)).rows[0].n;
  tap(bobRows === 0, 'Bob has no tasks left in the database', bobRows);

  // Sign-ins from this address are rate-limited (5 in a row less than a minute apart, counting
  // Alice's and Dora's): wrong passwords until the app refuses to check one.
  const bobSignIn = page2.getByRole('form', { name: 'Sign in' });
  await bobSignIn.getByLabel('Email').fill('bob@example.com');
  await bobSignIn.getByLabel('Password').fill('not his password');
  const tooMany = /^Too many attempts; please try again in \d+ seconds\.$/;
  let message = '';
  for (let i = 0; i < 6 && !tooMany.test(message); i += 1) {
    const before = message;
    await bobSignIn.getByRole('button', { name: 'Sign in' }).click();
    await until(async () => (message = await page2.getByRole('alert').textContent()) !== before && message !== '');
  }
  tap(tooMany.test(message), `wrong passwords in a row end in "${message}"`, message);
  await shot(page2, 'rate-limited');
  await bob.close();
  console.log(`# ${step} screenshots in ${shots}`);
}, { tap, done });
