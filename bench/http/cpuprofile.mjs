#!/usr/bin/env node
// `node cpuprofile.mjs FILE.cpuprofile [SECONDS]`: where a Node server's CPU time went during
// its last measured wrk run (the SECONDS, default 5, up to the last busy second of a profile that
// `node --cpu-prof` wrote; `run` with NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" makes them).
// Self time by the package or part of Node that the sampled function belongs to, in percent of
// the busy samples, and per request when REQUESTS (the run's request count) is set.
import { readFileSync } from 'node:fs';

const [file, secs = '5'] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));

// The time of every sample; the window: the last `secs` seconds that end at the last busy one.
const times = [];
let t = p.startTime;
for (const d of p.timeDeltas) times.push((t += d));
const perSecond = new Map();
p.samples.forEach((id, i) => {
  if (byId.get(id).callFrame.functionName === '(idle)') return;
  const s = Math.floor((times[i] - p.startTime) / 1e6);
  perSecond.set(s, (perSecond.get(s) || 0) + 1);
});
const top = Math.max(...perSecond.values());
const lastBusy = Math.max(...[...perSecond].filter(([, n]) => n > top / 4).map(([s]) => s));
const last = p.startTime + (lastBusy + 1) * 1e6;
const from = last - Number(secs) * 1e6;

function part(frame) {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native code outside JavaScript';
  if (!url) return `native: ${functionName}`;
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) return m[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(14).split('/')[0] : url.slice(5)}`;
  return url.replace(/^.*\/(examples|bench)\//, '$1/');
}

const self = new Map();
let busy = 0;
p.samples.forEach((id, i) => {
  if (times[i] < from || times[i] >= last) return;
  const frame = byId.get(id).callFrame;
  if (frame.functionName === '(idle)') return;
  busy++;
  const k = part(frame);
  self.set(k, (self.get(k) || 0) + 1);
});
const requests = Number(process.env.REQUESTS || 0);
const interval = (times.at(-1) - times[0]) / times.length / 1000; // ms per sample
console.log(`${file}: ${busy} busy samples (about ${(busy * interval / 1000).toFixed(1)} s of CPU) in the last ${secs} s`);
for (const [k, n] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 18)) {
  const pct = ((100 * n) / busy).toFixed(1).padStart(5);
  const per = requests ? `  ${((n * interval) / requests).toFixed(3)} ms/request` : '';
  console.log(`${pct}%  ${k}${per}`);
}
