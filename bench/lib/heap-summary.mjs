#!/usr/bin/env node
// Summarises a V8 .heapsnapshot: self size by (node type, constructor/name), top N; strings by prefix.
//   node bench/lib/heap-summary.mjs <file.heapsnapshot> [--top N]
import { readFileSync } from 'node:fs';

const [file, , topArg] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const snap = JSON.parse(readFileSync(file, 'utf8'));
const { node_fields: nf, node_types: [types] } = snap.snapshot.meta;
const F = nf.length;
const iType = nf.indexOf('type');
const iName = nf.indexOf('name');
const iSize = nf.indexOf('self_size');
const { nodes, strings } = snap;
const agg = new Map();
const strAgg = new Map();
let total = 0;
for (let i = 0; i < nodes.length; i += F) {
  const type = types[nodes[i + iType]];
  const name = strings[nodes[i + iName]];
  const size = nodes[i + iSize];
  total += size;
  const key = type === 'object' || type === 'closure' || type === 'native' ? `${type}:${name}` : type;
  const a = agg.get(key) ?? [0, 0];
  a[0] += size;
  a[1]++;
  agg.set(key, a);
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
    const k = name.slice(0, 60).replace(/\s+/g, ' ');
    const s = strAgg.get(k) ?? [0, 0];
    s[0] += size;
    s[1]++;
    strAgg.set(k, s);
  }
}
const mb = (x) => (x / 2 ** 20).toFixed(1).padStart(7);
console.log(`${file}: ${mb(total)} MB in ${nodes.length / F} nodes`);
for (const [k, [s, n]] of [...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, top)) console.log(`${mb(s)} MB ${String(n).padStart(8)}  ${k}`);
console.log('-- strings');
for (const [k, [s, n]] of [...strAgg].sort((a, b) => b[1][0] - a[1][0]).slice(0, 15)) console.log(`${mb(s)} MB ${String(n).padStart(8)}  ${JSON.stringify(k)}`);
