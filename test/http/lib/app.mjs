// What the HTTP tests share: a scratch database set up the way examples/task-app/README.md
// says, the app started with `node server.mjs` on a loopback port, and small HTTP clients.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

export const APP_DIR = fileURLToPath(new URL('../../../examples/task-app/', import.meta.url));
const run = promisify(execFile);

// A loopback TCP port nobody listens on right now.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A postgres:// URL for the cluster named by the PG* environment (TCP or a socket directory).
export function dbUrl(database, user = process.env.PGUSER || 'postgres', password = process.env.PGPASSWORD) {
  const host = process.env.PGHOST || 'localhost';
  const port = process.env.PGPORT || '5432';
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  return host.startsWith('/')
    ? `postgres://${auth}@/${database}?host=${encodeURIComponent(host)}&port=${port}`
    : `postgres://${auth}@${host}:${port}/${database}`;
}

// A superuser client of the cluster, to the given database.
export async function admin(database = process.env.PGDATABASE || 'postgres') {
  const c = new pg.Client({ database });
  await c.connect();
  return c;
}

// Creates database `name` and sets it up as the README does: `node migrate.mjs`, then psql with
// setup.sql. `appUrl` registers Better Auth at that URL as an issuer; `signingSecret` is the
// server's own key. `hs256` runs the README's command of the HS256 setup instead of psql (its
// signing_secret is `node api-token-key.mjs`, the key derived from authSecret): verbatim but for
// its database name and authenticator password, which it shows as task_app and change-me.
// Returns the app's environment.
export async function createAppDatabase(name, { appUrl, signingSecret, authSecret, hs256 = false }) {
  const c = await admin();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
    // Cheap bcrypt for taskauth.register/login in tests; the same code either way.
    await c.query(`ALTER DATABASE ${name} SET taskauth.bcrypt_cost = 4`);
  } finally {
    await c.end();
  }
  const password = randomBytes(12).toString('hex');
  const env = {
    BETTER_AUTH_SECRET: authSecret,
    AUTH_DATABASE_URL: dbUrl(name),
    DATABASE_URL: dbUrl(name, 'authenticator', password),
  };
  await run('node', ['migrate.mjs'], { cwd: APP_DIR, env: { ...process.env, ...env } });
  if (hs256) {
    let command = await hs256SetupCommand();
    command = replaceShown(command, ' -d task_app ', ` -d ${name} `);
    command = replaceShown(command, ' -v authenticator_password=change-me ', ` -v authenticator_password=${password} `);
    await run('bash', ['-euo', 'pipefail', '-c', command], { cwd: APP_DIR, env: { ...process.env, ...env } });
    return env;
  }
  const vars = ['-v', `authenticator_password=${password}`, '-v', `signing_secret=${signingSecret}`];
  if (appUrl) vars.push('-v', `app_url=${appUrl}`);
  await run('psql', ['-d', name, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...vars, '-f', 'setup.sql'],
    { cwd: APP_DIR });
  return env;
}

// The README's shell block that sets the HS256 setup's database up (setup.sql with the key that
// `node api-token-key.mjs` prints).
export async function hs256SetupCommand() {
  const block = (await readmeBlocks('sh')).find((b) => b.includes('api-token-key.mjs') && b.includes('setup.sql'));
  if (block === undefined) throw new Error('examples/task-app/README.md shows no HS256 setup command');
  return block;
}

// command with `shown` replaced by `by`; throws if the README's command no longer shows it.
function replaceShown(command, shown, by) {
  if (!command.includes(shown)) throw new Error(`the README's HS256 setup command has no "${shown.trim()}":\n${command}`);
  return command.replace(shown, by);
}

// Drops the database and the two roles setup.sql made.
export async function dropAppDatabase(name) {
  const c = await admin();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query('DROP ROLE IF EXISTS authenticator, web');
  } finally {
    await c.end();
  }
}

// Starts `node server.mjs` with env; resolves once it says where it listens, to
// { url, stop(), output() }. stop() ends it (SIGTERM, then SIGKILL) and waits.
export async function startApp(env, { timeoutMs = 30000 } = {}) {
  const child = spawn('node', ['server.mjs'], { cwd: APP_DIR, env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const app = {
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = out.match(/listening on (http:\/\/\S+)/);
    if (m) return Object.assign(app, { url: m[1] });
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await app.stop();
      throw new Error(`the app did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// POSTs a GraphQL operation; returns { status, headers, body (parsed), text }.
export async function graphql(url, query, variables = {}, token = null) {
  const headers = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* left null: the test reports the text */ }
  return { status: r.status, headers: r.headers, body, text };
}

// Signs up through Better Auth over HTTP, as the page does (a browser sends its Origin);
// returns { id, cookie }.
export async function signUp(url, email, password) {
  const r = await fetch(`${url}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email, password, name: email.split('@')[0] }),
  });
  const body = await r.json();
  if (r.status !== 200) throw new Error(`sign-up of ${email}: HTTP ${r.status} ${JSON.stringify(body)}`);
  return { id: body.user.id, cookie: r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };
}

// GET /api/auth/token with a session cookie; returns the JWT.
export async function getToken(url, cookie) {
  const r = await fetch(`${url}/api/auth/token`, { headers: { cookie } });
  const body = await r.json();
  if (r.status !== 200) throw new Error(`token: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body.token;
}

// A new random secret of 32 bytes, hex.
export const newSecret = () => randomBytes(32).toString('hex');

// Runs one test file's body: fn(cleanup) where cleanup(f) registers f to run at the end, last
// registered first, pass or fail (servers, browsers, the database). A crash counts as one
// failed test. Prints the TAP plan.
export async function scenario(fn, { tap, done }) {
  const cleanups = [];
  const cleanUp = async () => {
    for (const f of cleanups.splice(0).reverse()) {
      try { await f(); } catch (e) { console.log(`# cleanup: ${e.message}`); }
    }
  };
  // Interrupted (Ctrl-C, a harness timeout): stop what was started, then exit.
  const onSignal = (signal) => cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await fn((f) => cleanups.push(f));
  } catch (e) {
    tap(false, 'test ran to the end', e.stack);
  } finally {
    await cleanUp();
  }
  done();
}

// The fenced code blocks of examples/task-app/README.md in language lang, in order: the tests
// run what the README shows.
export async function readmeBlocks(lang) {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`${APP_DIR}README.md`, 'utf8');
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === lang).map((m) => m[2]);
}
