// (c) the floor: the example app's PostGraphile with authentication switched off. Same
// PostGraphile, same schema and options as examples/task-app/api.mjs, but no taskauth hook and
// no request.headers: each request's transaction runs as FLOOR_ROLE (a role that bypasses
// row-level security) and the query itself names the user, allTasks(condition: {userId: ...}).
// FLOOR_ROLE='' (diagnostic target (d)): no pgSettings at all, so PostGraphile opens no
// transaction for a query; DATABASE_URL must then log in as a role that bypasses row-level
// security itself.
import http from 'node:http';
import { createRequire } from 'node:module';
import { pgSettings } from '../../examples/task-app/api.mjs';

const require = createRequire(new URL('../../examples/task-app/package.json', import.meta.url));
const { postgraphile } = require('postgraphile');

// Starts the floor server on config.host:config.port; resolves to { url, close() }.
export function startFloor(config, role = process.env.FLOOR_ROLE ?? 'bench_floor') {
  return startPlain(config, role ? () => ({ role }) : undefined);
}

// Target (g): the app's pgSettings (role and request.headers) and no hook: taskauth verifies the
// token of request.headers on first use (lazy identity), the app as it will be without its hook.
export function startLazy(config) {
  return startPlain(config, pgSettings(config.apiRole));
}

// PostGraphile with the app's options, the given pgSettings and no plugin hook.
async function startPlain(config, settings) {
  const api = postgraphile(config.databaseUrl, 'taskauth', {
    pgSettings: settings,
    includeExtensionResources: true,
    ignoreRBAC: false,
    graphqlRoute: '/graphql',
    graphiql: false,
    disableQueryLog: true,
    retryOnInitFail: false,
  });
  await api.getGraphQLSchema();
  // The same routing as the app's server.mjs, for the one path measured here.
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
      await api.release();
    },
  };
}
