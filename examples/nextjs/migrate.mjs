#!/usr/bin/env node
// `node migrate.mjs`: creates or updates Better Auth's tables, as the role of AUTH_DATABASE_URL.
import { getMigrations } from 'better-auth/db/migration';
import { auth } from './lib/auth.js';

try {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  console.log('Better Auth tables are up to date');
} catch (e) {
  console.error(`migrate: ${e.message}`);
  process.exitCode = 1;
} finally {
  await auth.options.database.end();
}
