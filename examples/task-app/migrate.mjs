#!/usr/bin/env node
// `node migrate.mjs`: creates or updates Better Auth's tables (server.mjs does it at start too).
import pg from 'pg';
import { loadConfig } from './config.mjs';
import { createAuth, migrateAuth } from './auth.mjs';

const config = loadConfig();
const pool = new pg.Pool({ connectionString: config.authDatabaseUrl, max: 1 });
try {
  await migrateAuth(createAuth(pool, config));
  console.log('Better Auth tables are up to date');
} catch (e) {
  console.error(`migrate: ${e.message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
