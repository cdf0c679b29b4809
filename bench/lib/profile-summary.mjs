#!/usr/bin/env node
// Summarises V8 .cpuprofile files (node --cpu-prof): self time by package/file and the top functions.
//   node bench/lib/profile-summary.mjs <file.cpuprofile>... [--top N]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args.splice(topIdx, 2)[1]) : 25;
const incIdx = args.indexOf('--inclusive');
const inclusive = incIdx >= 0 ? args.splice(incIdx, 2)[1].split(',') : [];

function bucket(url) {
  if (!url) return '(native/vm)';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  if (url.startsWith('node:')) return url.split('/')[0].replace(/:.*/, ':') + url.slice(5).split('/')[0];
  if (url.includes('/src/')) return `src/${url.split('/src/')[1]}`;
  return url;
}

for (const file of args) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
  let total = 0;
  const byBucket = new Map();
  const byFn = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    total += us;
    const cf = n.callFrame;
    const b = cf.functionName === '(idle)' ? '(idle)' : cf.functionName === '(garbage collector)' ? '(gc)' : cf.functionName === '(program)' ? '(program)' : bucket(cf.url);
    byBucket.set(b, (byBucket.get(b) ?? 0) + us);
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/')}:${cf.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const busy = total - (byBucket.get('(idle)') ?? 0);
  console.log(`\n== ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy`);
  const pct = (us) => `${((100 * us) / busy).toFixed(1)}%`.padStart(6);
  console.log('-- by package/file (share of busy time)');
  for (const [k, us] of [...byBucket].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)} ${k}`);
  if (inclusive.length) {
    // Time of the samples whose stack contains a function of that name (each sample counted once per name).
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const inc = new Map(inclusive.map((f) => [f, 0]));
    for (const [id, us] of self) {
      const seen = new Set();
      for (let cur = id; cur != null; cur = parent.get(cur)) {
        const name = byId.get(cur).callFrame.functionName;
        if (inc.has(name) && !seen.has(name)) {
          seen.add(name);
          inc.set(name, inc.get(name) + us);
        }
      }
    }
    console.log('-- inclusive');
    for (const [k, us] of inc) console.log(`${pct(us)} ${k} (${(us / 1e6).toFixed(2)} s)`);
  }
  if (process.env.INCLUSIVE_TOP) {
    // Every function by inclusive time (a sample counts once per distinct function on its stack).
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const inc = new Map();
    for (const [id, us] of self) {
      const seen = new Set();
      for (let cur = id; cur != null; cur = parent.get(cur)) {
        const cf = byId.get(cur).callFrame;
        const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/')}:${cf.lineNumber + 1}`;
        if (seen.has(key)) continue;
        seen.add(key);
        inc.set(key, (inc.get(key) ?? 0) + us);
      }
    }
    console.log('-- top functions (inclusive)');
    for (const [k, us] of [...inc].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.INCLUSIVE_TOP))) console.log(`${pct(us)} ${k}`);
  }
  console.log('-- top functions (self)');
  for (const [k, us] of [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)} ${k}`);
}
