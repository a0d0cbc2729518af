#!/usr/bin/env node
// `node serve.mjs app|floor|lazy|tuned|app5|floor5|lazy5 [PROCESSES]`: the example app
// (examples/task-app/server.mjs's startServer, configured from the environment as server.mjs
// is), its floor or its API without the hook (floor.mjs), its API with a prepared pre_request
// statement (tuned.mjs); or the app's API ported to PostGraphile 5 (pg5/), its floor or that API
// without the hook (pg5/floor.mjs); on HOST:PORT, in PROCESSES Node processes sharing the port
// (node:cluster; 1 = this process alone). Prints "listening on URL" once every process listens;
// SIGTERM or SIGINT stops all. Each kind loads only its own PostGraphile: 5 needs Node 22.
import cluster from 'node:cluster';

const STARTERS = {
  app: async () => (await import('../../examples/task-app/server.mjs')).startServer,
  floor: async () => (await import('./floor.mjs')).startFloor,
  lazy: async () => (await import('./floor.mjs')).startLazy,
  tuned: async () => (await import('./tuned.mjs')).startTuned,
  app5: async () => (await import('./pg5/floor.mjs')).startApp,
  floor5: async () => (await import('./pg5/floor.mjs')).startFloor,
  lazy5: async () => (await import('./pg5/floor.mjs')).startLazy,
};
const [what, n = '1'] = process.argv.slice(2);
const processes = Number.parseInt(n, 10);
if (!(what in STARTERS) || !(processes >= 1)) {
  console.error(`usage: serve.mjs ${Object.keys(STARTERS).join('|')} [PROCESSES]`);
  process.exit(2);
}

async function serveOne() {
  const { loadConfig } = await import('../../examples/task-app/config.mjs');
  const start = await STARTERS[what]();
  const server = await start(loadConfig());
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server.url;
}

if (processes === 1) {
  try {
    console.log(`${what} listening on ${await serveOne()}`);
  } catch (e) {
    console.error(`${what}: cannot start: ${e.message}`);
    process.exit(1);
  }
} else if (cluster.isPrimary) {
  let ready = 0;
  let stopping = false;
  const workers = [];
  for (let i = 0; i < processes; i++) {
    const w = cluster.fork();
    workers.push(w);
    w.on('message', (m) => {
      if (m?.listening && ++ready === processes) console.log(`${what} listening on ${m.listening}`);
    });
  }
  cluster.on('exit', (w, code) => {
    if (!stopping) {
      console.error(`${what}: a worker exited (${code}); stopping`);
      stop();
    } else if (workers.every((x) => x.isDead())) process.exit(0);
  });
  function stop() {
    stopping = true;
    for (const w of workers) if (!w.isDead()) w.kill('SIGTERM');
    if (workers.every((x) => x.isDead())) process.exit(0);
  }
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  process.on('disconnect', () => process.exit(0));
  try {
    process.send({ listening: await serveOne() });
  } catch (e) {
    console.error(`${what}: cannot start: ${e.message}`);
    process.exit(1);
  }
}
