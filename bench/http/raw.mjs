#!/usr/bin/env node
// Diagnostic target (e): the database work of the example app's "list my tasks" without
// GraphQL. A plain Node http server with node-postgres sends, per request, what PostGraphile +
// taskauth sends (begin; the role and request.headers settings; select taskauth.pre_request();
// the select, row-level security picking the rows; commit) and writes the rows as the GraphQL
// answer's JSON. Compared with (b), it shows what PostGraphile itself costs per request.
// `PORT=... DATABASE_URL=... node raw.mjs`; SIGTERM stops it.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../examples/task-app/package.json', import.meta.url));
const pg = require('pg');

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const role = process.env.API_ROLE || 'web';

async function listTasks(authorization) {
  const client = await pool.connect();
  try {
    await client.query('begin');
    try {
      await client.query({
        name: 'settings',
        text: "select set_config('role', $1, true), set_config('request.headers', $2, true)",
        values: [role, JSON.stringify({ authorization })],
      });
      await client.query('select taskauth.pre_request()');
      const { rows } = await client.query({
        name: 'list',
        text: 'select id, title, is_completed from taskauth.tasks order by id',
      });
      return rows.map((r) => ({ id: r.id, title: r.title, isCompleted: r.is_completed }));
    } finally {
      await client.query('commit');
    }
  } finally {
    client.release();
  }
}

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    res.setHeader('Content-Type', 'application/json');
    try {
      const nodes = await listTasks(req.headers.authorization ?? '');
      res.end(JSON.stringify({ data: { allTasks: { nodes } } }));
    } catch (e) {
      res.statusCode = e.code === 'PGRST' ? 401 : 500;
      res.end(JSON.stringify({ errors: [{ message: e.code === 'PGRST' ? 'invalid token' : 'error' }] }));
    }
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  console.log(`raw listening on http://127.0.0.1:${server.address().port}`));
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  pool.end().then(() => process.exit(0));
});
