// The bench's command line: the options every run shares (stack, windows, load, report) and those each scenario adds
// (bench/scenarios/*.mjs `options`), parsed together; the shared settings (`S`, kept in the report's settings) and the
// `--help` text.
import { parseArgs } from 'node:util';

/** name → parseArgs option plus `help` (one line; the default is shown from `default`). */
export const SHARED_OPTIONS = {
  help: { type: 'boolean', default: false, help: 'this text; starts nothing' },
  quick: { type: 'boolean', default: false, help: '10 s windows (8 s for the fixed-rate ones), 2 s warm-up, levels 16,64: < 4 min in all' },
  duration: { type: 'string', help: 'S: measurement window (30; quick 10)' },
  warmup: { type: 'string', help: 'S: warm-up before each window (5; quick 2)' },
  concurrency: { type: 'string', help: 'N: in flight for the closed loops (64)' },
  levels: { type: 'string', help: 'N,N,…: concurrency levels of the per-level scenarios (16,64,256; quick 16,64)' },
  'sync-rate': { type: 'string', default: '10', help: 'N: arrivals per second of the fixed-rate scenarios' },
  accounts: { type: 'string', default: '200', help: 'N: bench accounts, spread over the ledger shards by their ids' },
  cross: { type: 'string', default: '0.8', help: 'F: fraction of transfers across shards (database servers)' },
  scenarios: { type: 'string', help: 'a,b,c: the scenarios to run (default: all but those run only when named)' },
  label: { type: 'string', default: '', help: 'TEXT: kept in the results and the run file name' },
  'worker-env': { type: 'string', multiple: true, default: [], help: 'K=V (repeatable): environment of the worker' },
  'api-env': { type: 'string', multiple: true, default: [], help: 'K=V (repeatable): environment of the APIs' },
  'worker-node-args': { type: 'string', default: '', help: "'--flag …': node arguments of the worker" },
  dyncfg: { type: 'string', multiple: true, default: [], help: 'K=V (repeatable): Temporal dev server dynamic config' },
  cluster: { type: 'boolean', default: false, help: 'the Temporal cluster (two nodes on PostgreSQL, durable) instead of the dev server; results go to bench/results/cluster-latest.{json,md}' },
  'temporal-store': { type: 'string', default: 'file', help: "file|memory: the dev server's persistence (file: a SQLite file, durable like `npm run dev`; memory: a diagnostic only, it forgets everything on restart)" },
  runtime: { type: 'string', default: 'tsx', help: 'tsx|js (js: sources transpiled once and run by plain node, like the Docker image)' },
  'cpu-prof': { type: 'boolean', default: false, help: 'CPU profiles of the worker and the API, kept in bench/results/profiles/' },
  'mem-probe': { type: 'boolean', default: false, help: 'V8 heap statistics and worker-thread heap snapshots of the worker' },
  'workflow-tracing': { type: 'boolean', default: false, help: 'OpenTelemetry on (the traced bundle, OTLP export to a local sink)' },
  preload: { type: 'string', help: 'm1,m2: preloadModules of the workflow bundle (experiments)' },
  'keep-logs': { type: 'boolean', default: false, help: 'service logs kept in bench/results/logs/' },
};

const parseSpec = (options) => Object.fromEntries(Object.entries(options).map(([k, { help: _help, ...o }]) => [k, o]));

/** Parses argv against the shared options and every scenario's own. */
export function parseOptions(scenarios, args = process.argv.slice(2)) {
  const options = { ...SHARED_OPTIONS };
  for (const s of scenarios) Object.assign(options, s.options ?? {});
  return parseArgs({ args, options: parseSpec(options) }).values;
}

/** The shared settings (`S`), then what each scenario adds (its `settings(opt, quick)`). */
export function settingsOf(opt, scenarios) {
  const quick = opt.quick;
  const S = {
    durationMs: 1000 * Number(opt.duration ?? (quick ? 10 : 30)),
    warmupMs: 1000 * Number(opt.warmup ?? (quick ? 2 : 5)),
    // the fixed-rate scenarios (sync, direct-db-paced) need fewer seconds than the saturation ones for stable p50/p95
    pacedMs: 1000 * Number(opt.duration ?? (quick ? 8 : 30)),
    concurrency: Number(opt.concurrency ?? 64),
    levels: (opt.levels ?? (quick ? '16,64' : '16,64,256')).split(',').map(Number),
    syncRate: Number(opt['sync-rate']),
    accounts: Number(opt.accounts),
    cross: Number(opt.cross),
  };
  for (const s of scenarios) Object.assign(S, s.settings?.(opt, quick) ?? {});
  if (!(S.cross >= 0 && S.cross <= 1)) throw new Error('--cross is a fraction between 0 and 1');
  if (!['file', 'memory'].includes(opt['temporal-store'])) throw new Error('--temporal-store is file or memory');
  return S;
}

/** `--help`: the options (shared, then per scenario) and the scenarios. */
export function helpText(scenarios) {
  const line = ([k, o]) => `  --${k}${o.default !== undefined && o.type === 'string' && !o.multiple && o.default !== '' ? ` (${o.default})` : ''}  ${o.help ?? ''}`;
  const out = ['npm run bench [-- options]: throughput and latency of the flows, side by side with the same SQL without a coordinator, and against a real `npm run dev` (the dev scenario); the targets of issue 23 (bench/NOTES.md).', '', 'Options:', ...Object.entries(SHARED_OPTIONS).map(line)];
  for (const s of scenarios) if (s.options && Object.keys(s.options).length) out.push(`  ${s.name}:`, ...Object.entries(s.options).map((e) => `  ${line(e)}`));
  out.push('', 'Scenarios (run in this order; per-level ones once per --levels entry, interleaved):');
  for (const s of scenarios) out.push(`  ${s.name}${s.perLevel ? ' (per level)' : ''}${s.onlyWhenNamed ? ' (only when named)' : ''}${s.aliases?.length ? ` (alias ${s.aliases.join(', ')})` : ''}`, ...s.description.split('\n').map((l) => `      ${l}`));
  return `${out.join('\n')}\n`;
}
