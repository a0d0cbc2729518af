// A real pgbouncer (the Debian package) on a loopback port in front of the test cluster.
import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { freePort } from './app.mjs';

// Starts pgbouncer for database `db` in the given pool mode, with users { name: password };
// resolves to { port, stop() } once it accepts connections.
export async function startPgbouncer(db, users, { poolMode = 'transaction', poolSize = 2 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ta-http-pgbouncer-'));
  const port = await freePort();
  const ini = join(dir, 'pgbouncer.ini');
  const userlist = join(dir, 'userlist.txt');
  await writeFile(ini, `[databases]
${db} = host=127.0.0.1 port=${process.env.PGPORT || 5432} dbname=${db}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${userlist}
pool_mode = ${poolMode}
default_pool_size = ${poolSize}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = ${join(dir, 'pgbouncer.log')}
pidfile = ${join(dir, 'pgbouncer.pid')}
`);
  await writeFile(userlist, Object.entries(users).map(([u, p]) => `"${u}" "${p}"\n`).join(''));
  await chmod(userlist, 0o600);
  let cmd = ['pgbouncer', ini];
  if (process.getuid() === 0) {
    // pgbouncer refuses to run as root; its files must belong to the user it runs as.
    const uid = Number(execFileSync('id', ['-u', 'postgres']));
    const gid = Number(execFileSync('id', ['-g', 'postgres']));
    for (const p of [dir, ini, userlist]) await chown(p, uid, gid);
    await chmod(dir, 0o700);
    cmd = ['runuser', '-u', 'postgres', '--', ...cmd];
  }
  const child = spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const [user, password] = Object.entries(users)[0];
  const deadline = Date.now() + 15000;
  for (;;) {
    const c = new pg.Client({ host: '127.0.0.1', port, database: db, user, password });
    try {
      await c.connect();
      await c.end();
      return { port, stop };
    } catch (e) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const log = await readFile(join(dir, 'pgbouncer.log'), 'utf8').catch(() => '');
        await stop();
        throw new Error(`pgbouncer did not start: ${e.message}\n${log.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
