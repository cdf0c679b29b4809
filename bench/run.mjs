#!/usr/bin/env node
// `npm run bench [-- --quick] [options]` (`-- --help` lists them and the scenarios): throughput and latency of
// sagaflow's flows on this machine, against the same SQL without orchestration. One process tree: an ephemeral stack
// (lib/stack.mjs: the two MariaDB servers A and B + an in-memory Temporal dev server on free ports, like `npm test`;
// migrations, a prebuilt workflow bundle, one worker process serving every unit and two API processes, single and
// batched), 200 seeded accounts spread over both ledger shards by their ids; then the scenarios one after another
// (scenarios/index.mjs, one file each; see bench/NOTES.md): direct-db, saga, batched and dev (batched's load against a
// real `npm run dev` of its own, started once: lib/dev-stack.mjs) at every --levels concurrency (default 16, 64, 256:
// name@level), sync / sync-batched / direct-db-paced at a fixed rate, checkout, start, inflight, and modes only when
// named. Transfers pair accounts so that --cross (default 0.8) of them cross shards, i.e. database
// servers. Then it runs every rejection path of the transfer saga (lib/paths.mjs) and audits the databases
// (lib/audit.mjs; dev's transfers are in its own stack: it checks them through its API). Writes
// bench/results/latest.json and latest.md with issue 23's targets, each naming its Temporal persistence (and a copy of
// the JSON under bench/results/runs/; lib/report.mjs), stops everything it started. What the numbers mean: bench/NOTES.md.
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from '../scripts/lib/deps.mjs';
import { ensureNodeRuntime } from '../scripts/lib/node-runtime.mjs';
import { log } from '../scripts/lib/log.mjs';
import { cleanup, stop, stopOnSignals } from '../scripts/lib/procs.mjs';
import { auditDb } from './lib/audit.mjs';
import { machine } from './lib/machine.mjs';
import { measurer, recorder } from './lib/measure.mjs';
import { pathChecks } from './lib/paths.mjs';
import { buildResult, writeResults } from './lib/report.mjs';
import { helpText, parseOptions, settingsOf } from './lib/settings.mjs';
import { startBench } from './lib/stack.mjs';
import { scenarios as REGISTRY } from './scenarios/index.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opt = parseOptions(REGISTRY);
if (opt.help) {
  process.stdout.write(helpText(REGISTRY));
  process.exit(0);
}
await ensureNodeRuntime(); // Node 24 LTS, whatever started this script
const benchStart = Date.now();
const S = settingsOf(opt, REGISTRY);

/** The scenarios --scenarios names (aliases resolved), in registry order; without it, all but the only-when-named. */
function selected() {
  const aliases = Object.fromEntries(REGISTRY.flatMap((s) => (s.aliases ?? []).map((a) => [a, s.name])));
  const names = REGISTRY.map((s) => s.name);
  if (!opt.scenarios) return REGISTRY.filter((s) => !s.onlyWhenNamed);
  const wanted = new Set(opt.scenarios.split(',').map((s) => aliases[s.trim()] ?? s.trim()));
  for (const w of wanted) if (!names.includes(w)) throw new Error(`unknown scenario ${w} (${names.join(', ')})`);
  return REGISTRY.filter((s) => wanted.has(s.name));
}

/** Per-level scenarios interleaved at each level, then the others in order; their returned values by name. */
async function runScenarios(ctx, chosen) {
  const values = {};
  const keep = (s, v) => v !== undefined && (values[s.name] = v);
  for (const level of S.levels) for (const s of chosen.filter((x) => x.perLevel)) await s.run(ctx, level);
  for (const s of chosen.filter((x) => !x.perLevel)) keep(s, await s.run(ctx));
  return values;
}

async function stopForProfiles(ctx, stamp) {
  await stop(ctx.api);
  await stop(ctx.worker);
  const keep = join(root, 'bench/results/profiles', stamp);
  if (existsSync(ctx.profDir)) {
    mkdirSync(keep, { recursive: true });
    cpSync(ctx.profDir, keep, { recursive: true });
    log.info(`bench: CPU profiles in ${keep}`);
  }
}

async function main() {
  ensureDeps(root);
  stopOnSignals();
  const chosen = selected();
  const startedAt = new Date().toISOString();
  const mach = machine();
  if (mach.concurrent_load.length) log.warn(`other load on this machine (numbers will be lower):\n  ${mach.concurrent_load.map((l) => l.slice(0, 120)).join('\n  ')}`);
  const stack = await startBench({ root, opt, S, startedAt });
  const rows = [];
  const ctx = { ...stack, root, opt, S, startedAt, expected: { httpCompleted: 0, ordersConfirmed: 0, inflight: 0 }, measured: measurer(stack.groups), record: recorder(rows, benchStart) };
  const values = await runScenarios(ctx, chosen);
  const paths = await pathChecks(ctx);
  const audit = await auditDb(ctx, paths, REGISTRY);
  for (const c of [...ctx.ledgerSql, ctx.ordersSql, ctx.inventorySql]) await c.end();
  await ctx.connection.close();
  ctx.http.close();
  ctx.httpBatched.close();
  const result = buildResult({ mach, startedAt, opt, S, ctx, scenarios: rows, values, audit });
  const stamp = writeResults(root, result, REGISTRY.filter((s) => s.markdown).map((s) => s.markdown));
  if (opt['cpu-prof']) await stopForProfiles(ctx, stamp);
  return audit.ok ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  log.error(err?.stack ?? String(err));
} finally {
  await cleanup();
}
process.exit(code);
