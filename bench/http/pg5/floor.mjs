// The example app's API on PostGraphile 5 (api.mjs here), for bench/http, each served on the
// app's routing for /graphql:
// (i) startApp: the API as api.mjs builds it (pgSettings, pre_request() first in every
//     transaction, 401 for a refused token);
// (j) startFloor: authentication switched off: no hook and no request.headers; each request's
//     transaction runs as FLOOR_ROLE (a role that bypasses row-level security) and the query
//     itself names the user, allTasks(condition: {userId: ...});
// (k) startLazy: schemaPreset's own settings (role and request.headers, as (i)'s) without the
//     hook: taskauth verifies the token of request.headers on first use (lazy identity).
import http from 'node:http';
import { createRequire } from 'node:module';
import { createApi, schemaPreset } from './api.mjs';

const require = createRequire(new URL('./package.json', import.meta.url));
const { postgraphile } = require('postgraphile');
const { grafserv } = require('postgraphile/grafserv/node');

// Starts (i) on config.host:config.port; resolves to { url, close() }.
export async function startApp(config) {
  const api = createApi(config);
  await api.ready;
  return listen(config, api, () => api.release());
}

// Starts (j); FLOOR_ROLE='' runs without settings (no transaction for a query).
export function startFloor(config, role = process.env.FLOOR_ROLE ?? 'bench_floor') {
  return startPlain(config, () => ({ pgSettings: role ? { role } : null }));
}

// Starts (k).
export function startLazy(config) {
  return startPlain(config);
}

// PostGraphile 5 with the app's schema, and the given per-request context instead of its own.
async function startPlain(config, context) {
  const pgl = postgraphile({ extends: [schemaPreset(config)], ...(context && { grafast: { context } }) });
  await pgl.getSchema();
  return listen(config, pgl.createServ(grafserv).createHandler(), () => pgl.release());
}

// The same routing as the app's server.mjs, for the one path measured here.
async function listen(config, api, release) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    if (path === '/graphql') api(req, res);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  return {
    url: `http://${config.host}:${server.address().port}`,
    async close() {
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
      await release();
    },
  };
}
