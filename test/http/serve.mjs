#!/usr/bin/env node
// What `make serve` runs once its cluster is up (examples/task-app/serve --in-cluster, here in
// the test cluster): the database set up, the app on $PORT, the two demo accounts it prints
// able to sign in and use the API, also from a page opened at http://localhost:$PORT (before,
// Better Auth refused such a sign-in: "Invalid origin"), the page's list of them, and SIGTERM
// stopping the app. A taken port: `make serve`'s script itself (no --in-cluster) exits 1 at
// once with a message naming the port, before building or starting anything (before, it took
// 13 s of cluster set-up and exited 0), and so does the part in the cluster; a port taken after
// that check makes the app fail to start, and that exits non-zero too. (Building taskauth and
// pg_virtualenv around it are what `make test` itself does.) Emits TAP.
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, stat, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap, done } from '../interop/lib/tap.mjs';
import { admin, APP_DIR, dropAppDatabase, freePort, getToken, graphql, scenario } from './lib/app.mjs';

// Runs examples/task-app/serve with args and env; a promise of { code, out, ms } once it exits,
// with .child, the process.
function serve(args, env) {
  const started = Date.now();
  const child = spawn(join(APP_DIR, 'serve'), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const result = new Promise((resolve) => child.once('exit', (code, signal) =>
    resolve({ code: code ?? signal, out, ms: Date.now() - started })));
  return Object.assign(result, { child });
}

// Listens on 127.0.0.1:port; resolves to the server (close it to free the port).
function hold(port) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

// Whether database name exists in the test cluster.
async function databaseExists(name) {
  const c = await admin();
  try {
    return (await c.query('SELECT FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

await scenario(async (cleanup) => {
  const state = await mkdtemp(join(tmpdir(), 'ta-http-serve-'));
  cleanup(() => rm(state, { recursive: true, force: true }));
  cleanup(() => dropAppDatabase('task_app'));

  // A taken port, given to `make serve`'s own script: it must stop before running anything. A
  // `make` first on PATH notes whether it got that far.
  const taken = await freePort();
  const holder = await hold(taken);
  const bin = join(state, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'make'), `#!/bin/sh\ntouch ${join(state, 'make-ran')}\nexit 97\n`);
  await chmod(join(bin, 'make'), 0o755);
  let r = await serve([], { PORT: String(taken), PATH: `${bin}:${process.env.PATH}` });
  const madeAnything = await stat(join(state, 'make-ran')).then(() => true, () => false);
  tap(r.code === 1 && r.ms < 5000 && !madeAnything &&
      r.out.includes(`make serve: cannot start the task app: port ${taken} is in use on 127.0.0.1`),
  `make serve with port ${taken} taken: exits 1 at once (${r.ms} ms), naming the port, before building anything`,
  `${r.code} ${r.ms} ms, make ran: ${madeAnything}\n${r.out}`);
  r = await serve(['--in-cluster', state], { PORT: String(taken) });
  tap(r.code === 1 && r.ms < 5000 && r.out.includes(`port ${taken} is in use`) && !(await databaseExists('task_app')),
    'its part in the cluster checks too: exits 1 before creating the database', `${r.code} ${r.ms} ms\n${r.out}`);
  holder.close();

  // The port free at the check, taken before the app listens (once the database exists).
  const late = await freePort();
  const run = serve(['--in-cluster', state], { PORT: String(late) });
  cleanup(async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      await run;
    }
  });
  let lateHolder = null;
  for (let i = 0; i < 600 && !lateHolder; i += 1) {
    if (await databaseExists('task_app')) lateHolder = await hold(late);
    else await new Promise((res) => setTimeout(res, 25));
  }
  r = await Promise.race([run, new Promise((res) => setTimeout(() => res({ code: 'still running', out: '' }), 60000).unref())]);
  lateHolder?.close();
  tap(lateHolder !== null && r.code === 1 && r.out.includes('make serve: the task app could not start:') &&
      r.out.includes('EADDRINUSE'),
  'a port taken after the check: the app cannot start, and it exits 1 with the reason', `${r.code}\n${r.out}`);
  await dropAppDatabase('task_app');

  const port = await freePort();
  const child = spawn(join(APP_DIR, 'serve'), ['--in-cluster', state], {
    env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  cleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const deadline = Date.now() + 60000;
  while (!out.includes('Ctrl-C stops') && child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  const url = `http://127.0.0.1:${port}`;
  tap(out.includes(`The task app is running at ${url}`), `it prints the URL ${url}`, out);
  const accounts = [...out.matchAll(/^ +(\S+@example\.com) +(\S+)$/gm)].map((m) => ({ email: m[1], password: m[2] }));
  tap(accounts.length === 2, 'and two demo accounts', out);
  const listed = await fetch(`${url}/demo-accounts.json`).then((x) => x.json(), (e) => e.message);
  tap(JSON.stringify(listed) === JSON.stringify(accounts), 'the page gets the same accounts to show (/demo-accounts.json)',
    JSON.stringify(listed));

  for (const { email, password } of accounts) {
    const r = await fetch(`${url}/api/auth/sign-in/email`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ email, password }),
    });
    const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const token = r.status === 200 ? await getToken(url, cookie) : null;
    const q = token && await graphql(url, 'mutation { createTask(input: {task: {title: "hello"}}) { task { id } } }', {}, token);
    const list = token && await graphql(url, '{ allTasks { totalCount } }', {}, token);
    tap(r.status === 200 && q?.body?.data?.createTask?.task?.id && list?.body?.data?.allTasks?.totalCount === 1,
      `${email} signs in with the printed password and uses the API`, `${r.status} ${q?.text} ${list?.text}`);
  }

  // The page opened at http://localhost:PORT instead: Better Auth trusts that origin too.
  const local = `http://localhost:${port}`;
  r = await fetch(`${local}/api/auth/sign-in/email`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: local },
    body: JSON.stringify(accounts[0] ?? {}),
  });
  const body = await r.text();
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = r.status === 200 ? await getToken(local, cookie) : null;
  const list = token && await graphql(local, '{ allTasks { totalCount } }', {}, token);
  tap(r.status === 200 && list?.body?.data?.allTasks?.totalCount === 1,
    `a sign-in from a page at ${local} works, and its token uses the API`, `${r.status} ${body} ${list?.text}`);
  r = await fetch(`${url}/api/auth/sign-in/email`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
    body: JSON.stringify(accounts[0] ?? {}),
  });
  tap(r.status === 403, 'from any other origin it is refused: 403', r.status);

  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15000).unref())]);
  const closed = await fetch(url).then(() => false, () => true);
  tap(code === 0 && closed, 'SIGTERM stops the app; it exits 0 and the port is closed', `${code} ${out}`);
}, { tap, done });
