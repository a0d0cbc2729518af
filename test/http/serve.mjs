#!/usr/bin/env node
// What `make serve` runs once its cluster is up (examples/task-app/serve --in-cluster, here in
// the test cluster): the database set up, the app on $PORT, the two demo accounts it prints
// able to sign in and use the API, and SIGTERM stopping the app. (Building taskauth and
// pg_virtualenv around it are what `make test` itself does.) Emits TAP.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap, done } from '../interop/lib/tap.mjs';
import { APP_DIR, dropAppDatabase, freePort, getToken, graphql, scenario } from './lib/app.mjs';

await scenario(async (cleanup) => {
  const state = await mkdtemp(join(tmpdir(), 'ta-http-serve-'));
  cleanup(() => rm(state, { recursive: true, force: true }));
  cleanup(() => dropAppDatabase('task_app'));
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

  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15000).unref())]);
  const closed = await fetch(url).then(() => false, () => true);
  tap(code === 0 && closed, 'SIGTERM stops the app; it exits 0 and the port is closed', `${code} ${out}`);
}, { tap, done });
