#!/usr/bin/env node
// The task app in one Node process: Better Auth at /api/auth/*, the GraphQL API at /graphql and
// the web page at /. Run it with `node server.mjs`; see README.md for its variables.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { toNodeHandler } from 'better-auth/node';
import { loadConfig } from './config.mjs';
import { CLIENT_ADDRESS_HEADER, createAuth, migrateAuth } from './auth.mjs';
import { createApi } from './api.mjs';
import { serveDemoAccounts, serveStatic } from './static.mjs';

// Starts the app; resolves once it listens, to { url, close() }.
export async function startServer(config) {
  const authPool = new pg.Pool({ connectionString: config.authDatabaseUrl, max: 5 });
  // An idle connection the server closes (a restart, a failover, pg_terminate_backend) leaves
  // the pool; the next query opens a new one. Unheard, the error would end the process.
  authPool.on('error', (e) => console.error(`auth database: an idle connection was lost (${e.message})`));
  let api;
  try {
    const auth = createAuth(authPool, config);
    await migrateAuth(auth);
    const authHandler = toNodeHandler(auth);
    api = createApi(config);
    await api.getGraphQLSchema(); // fail now, not at the first request, if the database is wrong

    const server = http.createServer((req, res) => {
      const path = new URL(req.url, 'http://localhost').pathname;
      const done = (e) => {
        console.error(e);
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      };
      if (path.startsWith('/api/auth/')) {
        // the rate limiter's key: this connection's peer, whatever the request's headers claim
        req.headers[CLIENT_ADDRESS_HEADER] = req.socket.remoteAddress ?? '';
        authHandler(req, res).catch(done);
      } else if (path === '/graphql') api(req, res);
      else if (path === '/demo-accounts.json') serveDemoAccounts(req, res, config.demoAccounts);
      else serveStatic(req, res, path).catch(done);
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
    const { port } = server.address();
    return {
      url: `http://${config.host}:${port}`,
      async close() {
        await new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        });
        await api.release();
        await authPool.end();
      },
    };
  } catch (e) {
    await api?.release();
    await authPool.end();
    throw e;
  }
}

// `node server.mjs`: start from the environment, stop on SIGINT or SIGTERM.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  let app;
  try {
    const config = loadConfig();
    if (config.usingDevelopmentSecret)
      console.warn('task app: BETTER_AUTH_SECRET is not set; using a development secret');
    app = await startServer(config);
  } catch (e) {
    console.error(`task app: cannot start: ${e.message}`);
    process.exit(1);
  }
  console.log(`task app listening on ${app.url}`);
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
