#!/usr/bin/env node
// `node serve.mjs app|floor|tuned|lazy [PROCESSES]`: the example app (examples/task-app/server.mjs's
// startServer, configured from the environment as server.mjs is), the floor (floor.mjs), the
// app's API with a prepared pre_request statement (tuned.mjs) or with no hook (floor.mjs,
// against the database of lazy.sql) on
// HOST:PORT, in PROCESSES Node processes sharing the port (node:cluster; 1 = this process
// alone). Prints "listening on URL" once every process listens; SIGTERM or SIGINT stops all.
import cluster from 'node:cluster';
import { loadConfig } from '../../examples/task-app/config.mjs';
import { startServer } from '../../examples/task-app/server.mjs';
import { startFloor, startLazy } from './floor.mjs';
import { startTuned } from './tuned.mjs';

const [what, n = '1'] = process.argv.slice(2);
const processes = Number.parseInt(n, 10);
if (!['app', 'floor', 'tuned', 'lazy'].includes(what) || !(processes >= 1)) {
  console.error('usage: serve.mjs app|floor|tuned|lazy [PROCESSES]');
  process.exit(2);
}

async function serveOne() {
  const config = loadConfig();
  const start = { app: startServer, floor: startFloor, tuned: startTuned, lazy: startLazy }[what];
  const server = await start(config);
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
