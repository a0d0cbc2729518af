// A scratch database for one Node interop test: created with taskauth, handed to run(client),
// dropped afterwards; a crash counts as one failed test. Prints the TAP plan at the end.
import pg from 'pg';
import { tap, done } from './tap.mjs';

export async function inScratchDatabase(name, run) {
  const admin = new pg.Client({ database: process.env.PGDATABASE || 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const c = new pg.Client({ database: name });
  try {
    await c.connect();
    await c.query('CREATE EXTENSION taskauth');
    await run(c);
  } catch (e) {
    tap(false, 'test ran to the end', e.stack);
  } finally {
    await c.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  }
  done();
}
