// Diagnostic target (f): the example app's API with one change to its hook, to measure it
// before proposing it: `select taskauth.pre_request()` goes as a named prepared statement
// (parsed and planned once per connection, then only bound and executed), where api.mjs sends
// it as a simple query (parsed and planned on every request). Everything else as
// examples/task-app/api.mjs builds it: its pgSettings, PostGraphile options, 401 for a refused
// token.
import http from 'node:http';
import { createRequire } from 'node:module';
import { pgSettings } from '../../examples/task-app/api.mjs';

const require = createRequire(new URL('../../examples/task-app/package.json', import.meta.url));
const { postgraphile, makePluginHook } = require('postgraphile');

const PRE_REQUEST = { name: 'taskauth_pre_request', text: 'select taskauth.pre_request()' };

const preparedHook = {
  withPostGraphileContext(withContext) {
    return (options, callback) =>
      withContext(options, async (context) => {
        try {
          await context.pgClient.query(PRE_REQUEST);
        } catch (e) {
          if (e.code !== 'PGRST') throw e;
          const { code, message } = JSON.parse(e.message);
          const { status, headers } = JSON.parse(e.detail);
          throw Object.assign(new Error(message), { statusCode: status, code, headers });
        }
        return callback(context);
      });
  },
};

function handleErrors(errors, req, res) {
  return errors.map((error) => {
    for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
    return { message: error.message, extensions: { code: error.code } };
  });
}

// Starts it on config.host:config.port; resolves to { url, close() }.
export async function startTuned(config) {
  const api = postgraphile(config.databaseUrl, 'taskauth', {
    pluginHook: makePluginHook([preparedHook]),
    pgSettings: pgSettings(config.apiRole),
    includeExtensionResources: true,
    ignoreRBAC: false,
    handleErrors,
    graphqlRoute: '/graphql',
    graphiql: false,
    disableQueryLog: true,
    retryOnInitFail: false,
  });
  await api.getGraphQLSchema();
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
