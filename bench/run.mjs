#!/usr/bin/env node
// `npm run bench [-- --quick] [options]`: throughput and latency of sagaflow's flows on this machine, against the same
// SQL without orchestration. One process tree: an ephemeral stack (the two MariaDB servers A and B + an in-memory
// Temporal dev server on free ports, like `npm test`), migrations, a prebuilt workflow bundle, one worker process
// serving every unit (the flows queue and each domain's/shard's queue) and one API process, 200 seeded accounts spread
// over both ledger shards by their ids; then the scenarios one after another (see bench/NOTES.md):
//   direct-db      the transfer's SQL, one local transaction per database (debit branch on the source's shard, credit
//                  branch on the destination's, status on the source's), from Node via Sequelize, no coordinator
//   saga           POST /v1/transfers with Prefer: wait=30 to an API in TRANSFER_MODE=single (a workflow per transfer),
//                  closed loop: each request ends when its flow is COMPLETED (200 COMPLETED answers only)
//   batched        the same to an API in TRANSFER_MODE=batched (the transfers that arrive while a batch starts share
//                  one workflow run, each its own saga)
//                  direct-db, saga and batched run at every --levels concurrency (default 16, 64, 256): name@level
//   sync / sync-batched  one mode at a fixed arrival rate (open loop, --sync-rate, default 10/s), Prefer: wait=10
//   direct-db-paced the direct-db transactions at the sync rate (open loop): the like-for-like latency baseline of sync
//   checkout       POST /v1/orders with Prefer: wait=30, closed loop, 50 in flight: one line of a well-stocked product
//                  under the approval threshold, payers alternating over the shards (orders CONFIRMED per second)
//   start          POST /v1/transfers without wait vs a bare client.workflow.start from this process, one at a time,
//                  interleaved and paced (plus, as diagnostics, a start with the API's options and GET /healthz)
//   inflight       worker RSS with 200 orders held in AWAITING_APPROVAL (peak, and settled after V8's memory reducer)
//   modes          (only when named: --scenarios modes) the three guarantees side by side: POST /v1/transfers with
//                  consistency saga / tcc / xa, Prefer: wait=30, closed loop at each of --modes-concurrency (16,64):
//                  tps, p50/p99, CPU per transfer (API + worker + both MariaDB + Temporal) and InnoDB row-lock waits
// Transfers pair accounts so that --cross (default 0.8) of them cross shards, i.e. database servers. Then it runs every
// rejection path of the transfer saga and audits the databases (money conserved summed over both shards, ledgers sum
// to balances on each shard, every transfer COMPLETED exactly once with its row on its source's shard, one barrier row
// per branch on the branch's shard, orders, stock and merchant credit consistent). Writes bench/results/latest.json and
// latest.md (and a copy of the JSON under bench/results/runs/), stops everything it started. What the numbers mean:
// bench/NOTES.md.
//
// Options: --quick (10 s windows, < 4 min in all) --duration S --warmup S --concurrency N --accounts N --cross F
//   --checkout-concurrency N --checkout-warmup S (default 15)  --scenarios a,b,c  --label TEXT  --worker-env K=V / --api-env K=V (repeatable)
//   --worker-node-args='--flag …'  --dyncfg K=V (repeatable, Temporal dev server dynamic config) --no-bench-dyncfg
//   (the project's dynamic config only)  --runtime tsx|js (js: sources transpiled once and run by plain node, like the
//   Docker image)  --cpu-prof (CPU profiles of the worker and the API, kept in bench/results/profiles/) --mem-probe (V8
//   heap statistics and worker-thread heap snapshots of the worker) --workflow-tracing (OpenTelemetry on: the traced bundle,
//   OTLP export to a local sink, to price tracing) --preload m1,m2 (bundle experiments) --levels 16,64,256 --sync-rate N  --keep-logs (service logs kept in bench/results/logs/) --start-samples N --inflight N
//   --inflight-settle S
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, existsSync, cpSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDeps } from '../scripts/lib/deps.mjs';
import { ensureNodeRuntime } from '../scripts/lib/node-runtime.mjs';
import { log } from '../scripts/lib/log.mjs';
import { cleanup, freePort, onCleanup, start, stop, stopOnSignals, waitFor } from '../scripts/lib/procs.mjs';
import { loadSearchAttributes, workerProcessEnv } from '../scripts/lib/project.mjs';
import { provision } from '../scripts/lib/stack.mjs';
import { DYNAMIC_CONFIG } from '../scripts/lib/temporal-server.mjs';
import { closedLoop, httpClient, openLoop } from './lib/load.mjs';
import { benchAccounts, pairPicker } from './lib/pairs.mjs';
import { groupSnapshot, meter } from './lib/proc.mjs';
import { chart } from './lib/chart.mjs';
import { round, summarize } from './lib/stats.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
await ensureNodeRuntime(); // Node 24 LTS, whatever started this script
const benchStart = Date.now();
const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    concurrency: { type: 'string' },
    'checkout-concurrency': { type: 'string', default: '50' },
    'checkout-warmup': { type: 'string' },
    accounts: { type: 'string', default: '200' },
    cross: { type: 'string', default: '0.8' },
    scenarios: { type: 'string' },
    label: { type: 'string', default: '' },
    'worker-env': { type: 'string', multiple: true, default: [] },
    'api-env': { type: 'string', multiple: true, default: [] },
    dyncfg: { type: 'string', multiple: true, default: [] },
    'no-bench-dyncfg': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'mem-probe': { type: 'boolean', default: false },
    preload: { type: 'string' },
    'workflow-tracing': { type: 'boolean', default: false },
    levels: { type: 'string' },
    'sync-rate': { type: 'string', default: '10' },
    'keep-logs': { type: 'boolean', default: false },
    runtime: { type: 'string', default: 'tsx' },
    'worker-node-args': { type: 'string', default: '' },
    'start-samples': { type: 'string' },
    inflight: { type: 'string', default: '200' },
    'modes-concurrency': { type: 'string', default: '16,64' },
    'inflight-settle': { type: 'string' },
    // --cluster: the Temporal cluster (two nodes on PostgreSQL, durable) instead of the in-memory dev server; results
    // go to bench/results/cluster-latest.{json,md} (latest.* stay the dev server's).
    cluster: { type: 'boolean', default: false },
  },
});
const quick = opt.quick;
const S = {
  durationMs: 1000 * Number(opt.duration ?? (quick ? 10 : 30)),
  warmupMs: 1000 * Number(opt.warmup ?? (quick ? 2 : 5)),
  // the fixed-rate scenarios (sync, direct-db-paced) need fewer seconds than the saturation ones for stable p50/p95
  pacedMs: 1000 * Number(opt.duration ?? (quick ? 8 : 30)),
  concurrency: Number(opt.concurrency ?? 64),
  levels: (opt.levels ?? (quick ? '16,64' : '16,64,256')).split(',').map(Number),
  syncRate: Number(opt['sync-rate']),
  checkoutConcurrency: Number(opt['checkout-concurrency']),
  checkoutWarmupMs: 1000 * Number(opt['checkout-warmup'] ?? 15),
  accounts: Number(opt.accounts),
  cross: Number(opt.cross),
  startSamples: Number(opt['start-samples'] ?? (quick ? 40 : 200)),
  startGapMs: 100,
  inflight: Number(opt.inflight),
};
if (!(S.cross >= 0 && S.cross <= 1)) throw new Error('--cross is a fraction between 0 and 1');
const ALL = ['direct-db', 'saga', 'batched', 'sync', 'sync-batched', 'direct-db-paced', 'checkout', 'start', 'inflight', 'modes'];
/** What runs without --scenarios: `modes` only when named (it adds six windows). */
const DEFAULT_SCENARIOS = ALL.filter((s) => s !== 'modes');
// The names of 0.1 (its local-activities scenarios saga-local / sync-local are gone with FLOW_LOCAL_ACTIVITIES).
const ALIASES = { 'saga-remote': 'saga', 'sync-remote': 'sync' };
const wanted = new Set(opt.scenarios ? opt.scenarios.split(',').map((s) => ALIASES[s.trim()] ?? s.trim()) : DEFAULT_SCENARIOS);
for (const w of wanted) if (!ALL.includes(w)) throw new Error(`unknown scenario ${w} (${ALL.join(', ')})`);
const kv = (list) => Object.fromEntries(list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));

const PREFIX = 'bench-';
// 0.2's per-transfer saga before the performance work: `npm run bench -- --quick` on Node 24 at 64 in flight.
const SAGA_0_2_TPS = 8.1;
// The synchronous scenario the latency target reads: the default mode (TRANSFER_MODE=batched).
const DEFAULT_SYNC = 'sync-batched';
const INITIAL = 100_000_000_000; // minor units per account: no transfer or order is ever short of funds
const POOR = 10; // the opening balance of path-poor
const API_KEY = 'bench-key-0123456789';
// Products (inventory database, server B): one over the approval threshold (the inflight orders park on it), one well
// stocked and cheap (the checkout scenario's line).
const BIG = { sku: 'bench-big', price: 1_500_000, stock: 1_000_000 };
const ITEM = { sku: 'bench-item', price: 2_500, stock: 1_000_000_000 };

// A single-node dev server gains nothing from several task-queue partitions: with one, a poll and a task always meet
// on the same partition (no forwarding, no idle pollers on an empty one). Measured: same tps, p99 −30 % (NOTES.md).
const BENCH_DYNAMIC_CONFIG = { 'matching.numTaskqueueReadPartitions': 1, 'matching.numTaskqueueWritePartitions': 1 };

function otherLoad() {
  const r = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => /chaos|vitest|scripts\/fuzz|scripts\/test\.mjs/.test(l) && !l.includes('bench/run.mjs'))
    .map((l) => l.trim());
}

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    ram_gb: round(os.totalmem() / 2 ** 30, 1),
    cpu_model: cpus[0]?.model ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadavg_at_start: os.loadavg().map((x) => round(x, 2)),
    concurrent_load: otherLoad(),
  };
}

/** A TypeScript module of the project, loaded through tsx (CommonJS sources: named exports or under default). */
async function loadTs(file) {
  const { tsImport } = await import('tsx/esm/api');
  const mod = await tsImport(pathToFileURL(join(root, file)).href, import.meta.url);
  return { ...(mod.default ?? {}), ...mod };
}

// Filled in by main() once the project's modules are loaded (the shard rule, the ledger's shard count).
let shardOf;
let SHARDS;
let pair;
/** A fresh id that lives on `shard` (as src/activities/ledger/reads.ts idOnShard: a UUID redrawn until it hashes there). */
function idOnShard(shard, prefix = '') {
  for (;;) {
    const id = `${prefix}${randomUUID()}`;
    if (shardOf(id, SHARDS) === shard) return id;
  }
}

const transferBody = () => {
  const [fromAccountId, toAccountId] = pair();
  return { fromAccountId, toAccountId, amount: 1 + Math.floor(Math.random() * 1000), currency: 'USD' };
};

async function main() {
  ensureDeps(root);
  stopOnSignals();
  const startedAt = new Date().toISOString();
  const mach = machine();
  if (mach.concurrent_load.length) log.warn(`other load on this machine (numbers will be lower):\n  ${mach.concurrent_load.map((l) => l.slice(0, 120)).join('\n  ')}`);

  if (!opt['no-bench-dyncfg']) Object.assign(DYNAMIC_CONFIG, BENCH_DYNAMIC_CONFIG);
  for (const [k, v] of Object.entries(kv(opt.dyncfg))) DYNAMIC_CONFIG[k] = JSON.parse(v);

  const t0 = Date.now();
  const stack = await provision({ mode: 'test', root, searchAttributes: await loadSearchAttributes(root), cluster: opt.cluster });
  if (opt['keep-logs']) {
    onCleanup(() => {
      const dest = join(root, 'bench/results/logs', startedAt.replace(/[:.]/g, '-'));
      mkdirSync(dest, { recursive: true });
      cpSync(stack.logDir, dest, { recursive: true });
      log.info(`bench: logs kept in ${dest}`);
    });
  }
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  // Every child gets every database's URL (stack.databaseEnv); DATABASE_URL is never the one they use.
  const baseEnv = { ...stack.databaseEnv, ...stack.brokerEnv, TEMPORAL_ADDRESS: stack.temporal.address, NODE_ENV: 'production', LOG_LEVEL: 'warn', OTEL_TRACES_EXPORTER: 'none' };
  if (opt['workflow-tracing']) {
    // Tracing on, exported over OTLP/HTTP to a sink here that accepts and drops every batch.
    const { createServer } = await import('node:http');
    const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
    const sinkPort = await freePort();
    await new Promise((r) => sink.listen(sinkPort, '127.0.0.1', r));
    onCleanup(() => sink.close());
    Object.assign(baseEnv, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${sinkPort}/v1/traces` });
  }
  const migrated = spawnSync(tsx, ['src/migrate.ts', 'up'], { cwd: root, env: { ...process.env, ...baseEnv }, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`migrations failed: ${migrated.stderr}`);

  // The project's own view of this stack: database URLs by owner, task-queue prefix, units, shard rule, flow policy.
  const { loadConfig } = await loadTs('src/config.ts');
  const config = loadConfig({ ...process.env, ...baseEnv });
  const { serviceStores } = await loadTs('src/activities/index.ts');
  const ledger = await loadTs('src/activities/ledger/contract.ts');
  shardOf = ledger.shardOf;
  SHARDS = config.db.urls.ledger.length;
  const prefix = config.temporal.taskQueuePrefix;
  const flowsQueue = `${prefix}-flows`;
  const units = serviceStores(config).map((s) => s.unit);
  const topology = { queuePrefix: prefix, ledgerShards: SHARDS };
  const TIMEOUTS = {
    stepStartToCloseMs: config.flows.stepStartToCloseMs,
    stepScheduleToCloseMs: config.flows.stepScheduleToCloseMs,
    compensationStuckAfterMs: config.flows.compensationStuckAfterMs,
  };
  if (!(BIG.price > config.flows.approvalThreshold && ITEM.price <= config.flows.approvalThreshold)) {
    throw new Error(`APPROVAL_THRESHOLD ${config.flows.approvalThreshold}: ${BIG.sku} (${BIG.price}) must be over it, ${ITEM.sku} (${ITEM.price}) not`);
  }
  const accounts = benchAccounts({ prefix: PREFIX, count: S.accounts, shards: SHARDS, shardOf });
  pair = pairPicker(accounts, S.cross);
  log.info(`bench: ${S.accounts} accounts over ${SHARDS} ledger shards (${accounts.byShard.map((l) => l.length).join(' / ')}), ${Math.round(S.cross * 100)} % of transfers cross shards; task queues ${flowsQueue}, ${units.map((u) => `${prefix}-${u}`).join(', ')}`);

  // The workflow bundle, prebuilt once from the flows registry (as scripts/bundle-workflows.mjs builds it): without the
  // tracing interceptors, as a worker with no trace exporter runs; --workflow-tracing: the traced one.
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { workflowModules } = await loadTs('src/workflows/index.ts');
  const { writeWorkflowEntry } = await loadTs('src/platform/temporal/bundle.ts');
  const telemetry = await loadTs('src/platform/telemetry/worker.ts');
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: writeWorkflowEntry(workflowModules),
    workflowInterceptorModules: opt['workflow-tracing'] ? telemetry.workflowInterceptorModules : [],
    ...(opt.preload ? { preloadModules: opt.preload.split(',') } : {}),
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop },
  });
  const bundlePath = join(stack.work, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);

  // Seed. Each account on the shard its id maps to, with its opening ledger entry (as openAccount does); the products
  // in the inventory database.
  const mysql = await import('mysql2/promise');
  const connect = (uri) => mysql.createConnection({ uri, multipleStatements: false });
  const ledgerSql = await Promise.all(config.db.urls.ledger.map(connect));
  const ordersSql = await connect(config.db.urls.orders);
  const inventorySql = await connect(config.db.urls.inventory);
  const onShard = (id) => ledgerSql[shardOf(id, SHARDS)];
  async function openAccounts(list) {
    for (const [s, sql] of ledgerSql.entries()) {
      const here = list.filter((a) => shardOf(a.id, SHARDS) === s);
      if (!here.length) continue;
      const now = new Date();
      await sql.query('INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES ?', [here.map((a) => [a.id, 'bench', a.currency, a.balance, 0, now, now])]);
      const opened = here.filter((a) => a.balance > 0);
      if (opened.length) {
        await sql.query('INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES ?', [opened.map((a) => [a.id, `account-${a.id}`, 'open', a.balance, 'opening', now])]);
      }
    }
  }
  // Accounts for the rejection paths (see pathChecks): one short of funds, one in EUR.
  await openAccounts([...accounts.ids.map((id) => ({ id, currency: 'USD', balance: INITIAL })), { id: 'path-poor', currency: 'USD', balance: POOR }, { id: 'path-eur', currency: 'EUR', balance: 0 }]);
  await inventorySql.query('INSERT INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at) VALUES ?', [
    [
      [BIG.sku, 'Bench (needs approval)', BIG.price, 'USD', BIG.stock, 0, new Date(), new Date()],
      [ITEM.sku, 'Bench (well stocked)', ITEM.price, 'USD', ITEM.stock, 0, new Date(), new Date()],
    ],
  ]);
  const moneyAtStart = await totalMoney(ledgerSql);

  const profDir = join(stack.work, 'profiles');
  const prof = opt['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  // --runtime js: the sources transpiled once (esbuild, as `npm run build` would with tsc) and run by plain node, like
  // the Docker image; tsx (the default, as `npm run dev`) compiles on load and keeps a loader thread.
  let entry = (f) => ['--import', 'tsx', `src/${f}.ts`];
  if (opt.runtime === 'js') {
    const esbuild = await import('esbuild');
    const outdir = join(stack.work, 'build');
    const files = [];
    const walk = (d) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
      }
    };
    walk(join(root, 'src'));
    await esbuild.build({ entryPoints: files, outdir, outbase: join(root, 'src'), format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' });
    // Resolve node_modules from the project: a symlink next to the build.
    symlinkSync(join(root, 'node_modules'), join(stack.work, 'node_modules'));
    entry = (f) => [join(outdir, `${f}.js`)];
  } else if (opt.runtime !== 'tsx') throw new Error('--runtime is tsx or js');
  const memProbeDir = join(stack.work, 'mem-probe');
  const probe = opt['mem-probe'] ? ['--expose-gc', '--require', join(root, 'bench/lib/mem-probe.cjs')] : [];
  // One worker process serving every unit (WORKER_SERVE empty): the flows queue and every domain's/shard's queue.
  const workerEnv = { ...baseEnv, ...workerProcessEnv(baseEnv), WORKER_SERVE: '', WORKFLOW_BUNDLE_PATH: bundlePath, ...(opt['mem-probe'] ? { MEM_PROBE_DIR: memProbeDir } : {}), ...kv(opt['worker-env']) };
  const workerNodeArgs = opt['worker-node-args'].split(' ').filter(Boolean);
  const worker = start('worker', process.execPath, [...workerNodeArgs, ...prof, ...probe, ...entry('worker')], { cwd: root, env: workerEnv, logFile: join(stack.logDir, 'worker.log') });

  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const queues = [
    { name: flowsQueue, type: 1 }, // workflow tasks
    ...units.map((u) => ({ name: `${prefix}-${u}`, type: 2 })), // activity tasks
  ];
  await waitFor(
    `worker polling ${queues.map((q) => q.name).join(', ')}`,
    async () => {
      for (const q of queues) {
        const r = await connection.workflowService.describeTaskQueue({ namespace: config.temporal.namespace, taskQueue: { name: q.name, kind: 1 }, taskQueueType: q.type });
        if (r.pollers.length === 0) return false;
      }
      return true;
    },
    { entry: worker, timeoutMs: 90_000 },
  );

  const apiPort = await freePort();
  const base = `http://127.0.0.1:${apiPort}`;
  const apiEnv = {
    ...baseEnv,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    API_KEYS: API_KEY,
    RATE_LIMIT_PER_SECOND: '1000000000',
    RATE_LIMIT_BURST: '1000000000',
    ...kv(opt['api-env']),
  };
  const http = httpClient(base, { headers: { authorization: `Bearer ${API_KEY}` } });
  // Two API processes: `api` with a workflow per transfer (TRANSFER_MODE=single), `api_batched` with batched mode.
  // Checkout, start and inflight go to `api`; the idle one costs next to nothing.
  const api = start('api', process.execPath, [...prof, ...entry('api/server')], { cwd: root, env: { TRANSFER_MODE: 'single', ...apiEnv }, logFile: join(stack.logDir, 'api.log') });
  const batchedPort = await freePort();
  const apiBatched = start('api-batched', process.execPath, [...prof, ...entry('api/server')], {
    cwd: root,
    env: { TRANSFER_MODE: 'batched', ...apiEnv, API_PORT: String(batchedPort) },
    logFile: join(stack.logDir, 'api-batched.log'),
  });
  const httpBatched = httpClient(`http://127.0.0.1:${batchedPort}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  await waitFor('API /readyz', async () => (await fetch(`${base}/readyz`)).ok, { entry: api, timeoutMs: 90_000 });
  await waitFor('batched API /readyz', async () => (await fetch(`http://127.0.0.1:${batchedPort}/readyz`)).ok, { entry: apiBatched, timeoutMs: 90_000 });
  // Warm the APIs' pools, their routes and the Temporal connection.
  for (const h of [http, httpBatched]) await Promise.all(Array.from({ length: 20 }, () => h.post('/v1/transfers', transferBody(), { prefer: 'wait=10', 'idempotency-key': randomUUID() })));
  log.info(`bench: stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (logs ${stack.logDir})`);

  // Process groups metered per scenario: each MariaDB server separately (mariadb_a, mariadb_b; `mariadb` = their sum).
  const mariadbs = stack.servers.filter((s) => s.entry);
  const groups = () => ({
    api: api.child.pid,
    api_batched: apiBatched.child.pid,
    worker: worker.child.pid,
    ...Object.fromEntries(mariadbs.map((s) => [`mariadb_${s.name}`, s.entry.child.pid])),
    temporal: stack.temporal.entry.child.pid,
  });
  const scenarios = [];
  const expected = { httpCompleted: 0, ordersConfirmed: 0, inflight: 0 };

  /** Runs a load with the process meter around its measurement window only. */
  async function measured(fn) {
    let m;
    let usage;
    const hooks = {
      start: () => (m ??= meter(groups())),
      end: () => (usage ??= m?.stop()),
    };
    const r = await fn(hooks);
    hooks.start();
    hooks.end(); // the load ended before its window did (e.g. every request failed fast)
    return { r, usage };
  }
  const windowHooks = (hooks, warmupMs, durationMs) => {
    const a = setTimeout(hooks.start, warmupMs);
    const b = setTimeout(hooks.end, warmupMs + durationMs);
    return () => (clearTimeout(a), clearTimeout(b));
  };

  function record(name, { tps, lat, usage, appCpu, appRss, extra = {} }) {
    const { machine: cpuMachine, ...groupsUsage } = usage;
    const procs = Object.fromEntries(Object.entries(groupsUsage).map(([k, v]) => [k, { cpu_s: round(v.cpu_s), rss_mb: round(v.rss_mb, 1) }]));
    const dbs = Object.entries(groupsUsage).filter(([k]) => k.startsWith('mariadb_'));
    if (dbs.length) procs.mariadb = { cpu_s: round(dbs.reduce((a, [, v]) => a + v.cpu_s, 0)), rss_mb: round(dbs.reduce((a, [, v]) => a + v.rss_mb, 0), 1), summed: dbs.map(([k]) => k) };
    const machineCpu = cpuMachine && Object.fromEntries(Object.entries(cpuMachine).map(([k, v]) => [k, round(v)]));
    const cpu = appCpu ?? (usage.api?.cpu_s ?? 0) + (usage.api_batched?.cpu_s ?? 0) + (usage.worker?.cpu_s ?? 0);
    const rss = appRss ?? Math.max(usage.api?.rss_mb ?? 0, usage.api_batched?.rss_mb ?? 0) + (usage.worker?.rss_mb ?? 0);
    // CPU milliseconds per completed operation, per process (what one transfer costs each of them).
    const ops = extra.ops ?? 0;
    if (ops > 0) for (const v of Object.values(procs)) v.cpu_ms_per_op = round((v.cpu_s * 1000) / ops, 1);
    const s = {
      name,
      mode: extra.mode,
      level: extra.concurrency,
      cpu_ms_per_op: ops > 0 ? round(((Object.entries(procs).filter(([k]) => k !== 'mariadb').reduce((a, [, v]) => a + v.cpu_s, 0)) * 1000) / ops, 1) : undefined,
      tps: round(tps, 1),
      p50_ms: lat.p50_ms,
      p95_ms: lat.p95_ms,
      p99_ms: lat.p99_ms,
      cpu_s: round(cpu),
      rss_mb: round(rss, 1),
      samples: lat.n,
      procs,
      machine_cpu: machineCpu,
      ...extra,
    };
    scenarios.push(s);
    log.info(`bench: [${((Date.now() - benchStart) / 1000).toFixed(0)} s] ${name}: ${s.tps} tps, p50 ${s.p50_ms} ms, p95 ${s.p95_ms} ms, p99 ${s.p99_ms} ms, cpu ${s.cpu_s} s, rss ${s.rss_mb} MB, machine idle/other/steal ${machineCpu ? `${machineCpu.idle_s}/${machineCpu.other_s}/${machineCpu.steal_s}` : '?'} s ${JSON.stringify(extra)}`);
    return s;
  }

  async function directDb(name, args) {
    let m;
    let usage;
    const res = await new Promise((resolveRun, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/direct-db.ts', JSON.stringify(args)], {
        cwd: root,
        env: { ...process.env, ...baseEnv },
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true,
      });
      const kill = () => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      };
      onCleanup(kill);
      let buf = '';
      let last;
      child.stdout.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line === 'window-start') m = meter({ ...groups(), direct: child.pid });
          else if (line === 'window-end') usage = m?.stop();
          else last = line;
        }
      });
      child.on('exit', (c) => (c === 0 ? resolveRun(JSON.parse(last)) : reject(new Error(`direct-db exited ${c}`))));
    });
    const meta = { deadlock_retries: res.deadlockRetries, errors: res.errors, cross_shard: round(res.crossShard, 3), ...(res.firstError ? { first_error: res.firstError } : {}) };
    return record(name, {
      tps: res.ok / res.windowS,
      lat: res,
      usage,
      appCpu: usage.direct.cpu_s,
      appRss: usage.direct.rss_mb,
      extra: { mode: 'direct', ops: res.ok, concurrency: args.concurrency, ...(args.rate ? { rate: args.rate, late: res.late } : {}), ...meta },
    });
  }

  let outcomes = {};
  const count = (r) => {
    const k = `${r.status} ${r.body?.data?.status ?? r.body?.code ?? ''}`.trim();
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  };
  const completedOp = (prefer, to = http) => async () => {
    const r = await to.post('/v1/transfers', transferBody(), { prefer, 'idempotency-key': randomUUID() });
    count(r);
    if (r.status === 200 && r.body?.data?.status === 'COMPLETED') {
      expected.httpCompleted++;
      return true;
    }
    if (r.status >= 400) throw new Error(`POST /v1/transfers ${r.status}: ${r.text.slice(0, 300)}`);
    return false;
  };

  /** The batched API's batch-size histogram (sum, count) from its /metrics. */
  async function batchSizes(to) {
    const text = (await to.get('/metrics')).text;
    const num = (k) => Number(text.match(new RegExp(`^sagaflow_batch_size_${k}\\{type="transfer"\\} (\\S+)`, 'm'))?.[1] ?? 0);
    return { sum: num('sum'), count: num('count') };
  }

  async function saga(name, { concurrency = S.concurrency, to = http, mode = 'saga' } = {}) {
    outcomes = {};
    const sizesBefore = mode === 'batched' ? await batchSizes(to) : undefined;
    const { r, usage } = await measured(async (hooks) => {
      const cancel = windowHooks(hooks, S.warmupMs, S.durationMs);
      const res = await closedLoop({ concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, op: completedOp('wait=30', to) });
      cancel();
      return res;
    });
    if (r.firstError) log.warn(`${name}: ${r.firstError.message}`);
    const sizesAfter = sizesBefore && (await batchSizes(to));
    const batches = sizesAfter && sizesAfter.count - sizesBefore.count;
    return record(name, {
      tps: r.ok / r.windowS,
      lat: summarize(r.latencies),
      usage,
      extra: { mode, ops: r.ok, concurrency, ...(batches ? { batches, mean_batch_size: round((sizesAfter.sum - sizesBefore.sum) / batches, 1) } : {}), errors: r.errors, outcomes, measure: `transfers COMPLETED per second (POST with Prefer: wait=30 answered 200 COMPLETED, TRANSFER_MODE=${mode === 'batched' ? 'batched' : 'single'}), closed loop` },
    });
  }

  async function sync(name, rate, { to = http, mode = 'saga' } = {}) {
    outcomes = {};
    const { r, usage } = await measured(async (hooks) => {
      const cancel = windowHooks(hooks, S.warmupMs, S.pacedMs);
      const res = await openLoop({ rate, warmupMs: S.warmupMs, durationMs: S.pacedMs, op: completedOp('wait=10', to) });
      cancel();
      return res;
    });
    if (r.firstError) log.warn(`${name}: ${r.firstError.message}`);
    return record(name, {
      tps: r.ok / r.windowS,
      lat: summarize(r.latencies),
      usage,
      extra: { mode: `sync-${mode}`, ops: r.ok, rate, errors: r.errors, outcomes, late: r.late, dropped: r.dropped, measure: 'open loop; latency from the scheduled send time to 200 COMPLETED' },
    });
  }

  /** Checkouts, closed loop: one line of ITEM (under the approval threshold), payers alternating over the shards. */
  async function checkout(name) {
    outcomes = {};
    let n = 0;
    const payerOnShard = accounts.byShard.map(() => 0);
    const op = async () => {
      const i = n++;
      const shard = i % SHARDS;
      const list = accounts.byShard[shard];
      const payer = list[Math.floor(i / SHARDS) % list.length];
      payerOnShard[shard]++;
      const body = { customerId: `bench-cust-${i % 500}`, paymentAccountId: payer, items: [{ sku: ITEM.sku, quantity: 1 }] };
      const r = await http.post('/v1/orders', body, { prefer: 'wait=30', 'idempotency-key': randomUUID() });
      count(r);
      if (r.status === 200 && r.body?.data?.status === 'CONFIRMED') {
        expected.ordersConfirmed++;
        return true;
      }
      if (r.status >= 400) throw new Error(`POST /v1/orders ${r.status}: ${r.text.slice(0, 300)}`);
      return false;
    };
    // A closed loop is steady only after its first round (every caller starts at once): at 50 in flight a round of
    // checkouts takes seconds here, longer than the transfers' warm-up.
    const warmupMs = Math.max(S.warmupMs, S.checkoutWarmupMs);
    const { r, usage } = await measured(async (hooks) => {
      const cancel = windowHooks(hooks, warmupMs, S.durationMs);
      const res = await closedLoop({ concurrency: S.checkoutConcurrency, warmupMs, durationMs: S.durationMs, op });
      cancel();
      return res;
    });
    if (r.firstError) log.warn(`${name}: ${r.firstError.message}`);
    return record(name, {
      tps: r.ok / r.windowS,
      lat: summarize(r.latencies),
      usage,
      extra: {
        concurrency: S.checkoutConcurrency,
        warmup_ms: warmupMs,
        errors: r.errors,
        outcomes,
        payers_by_shard: payerOnShard,
        measure: `orders CONFIRMED per second (POST /v1/orders with Prefer: wait=30 answered 200 CONFIRMED), closed loop; one line of ${ITEM.sku} at ${ITEM.price} (under the approval threshold ${config.flows.approvalThreshold})`,
      },
    });
  }

  // ---- scenarios -------------------------------------------------------------------------------------------------
  const directArgs = { concurrency: S.concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, accounts: S.accounts, prefix: PREFIX, cross: S.cross };
  for (const level of S.levels) {
    if (wanted.has('direct-db')) await directDb(`direct-db@${level}`, { ...directArgs, concurrency: level });
    if (wanted.has('saga')) await saga(`saga@${level}`, { concurrency: level });
    if (wanted.has('batched')) await saga(`batched@${level}`, { concurrency: level, to: httpBatched, mode: 'batched' });
  }
  if (wanted.has('sync')) await sync('sync', S.syncRate);
  if (wanted.has('sync-batched')) await sync('sync-batched', S.syncRate, { to: httpBatched, mode: 'batched' });
  if (wanted.has('direct-db-paced')) await directDb('direct-db-paced', { ...directArgs, rate: S.syncRate, concurrency: 0, durationMs: S.pacedMs });
  if (wanted.has('checkout')) await checkout('checkout');
  const modes = wanted.has('modes') ? await modesScenario({ http, ledgerSql, measured, windowHooks, record }) : null;

  if (wanted.has('start')) {
    // Sequential, interleaved (POST, bare start, start with the API's options, GET /healthz), so all see the same
    // background load: the flows they start run meanwhile. POST carries an Idempotency-Key: production refuses a
    // flow-starting POST without one (0.1 also measured a POST without a key, which 0.2 no longer accepts). Bare =
    // client.workflow.start of the same workflow with the same input, no API, no database, no search attributes or
    // summary.
    const lat = { post: [], bare: [], full: [], floor: [] };
    const { defineSearchAttributeKey } = await import('@temporalio/common');
    const sa = (n, type = 'KEYWORD') => defineSearchAttributeKey(n, type);
    const input = (b) => {
      const id = idOnShard(shardOf(b.fromAccountId, SHARDS)); // on the source's shard, as the API draws it
      return { id, ...b, memo: null, timeouts: TIMEOUTS, topology };
    };
    const { usage } = await measured(async (hooks) => {
      hooks.start();
      for (let i = 0; i < S.startSamples; i++) {
        // Paced (~10 starts/s in all, well below what the worker finishes per second) so the flows started here do not
        // pile up into a backlog that would saturate the CPU and measure contention instead of the start path.
        await sleep(S.startGapMs);
        let s = performance.now();
        const r1 = await http.post('/v1/transfers', transferBody(), { 'idempotency-key': randomUUID() });
        if (r1.status !== 202) throw new Error(`POST without wait answered ${r1.status}: ${r1.text.slice(0, 200)}`);
        lat.post.push(performance.now() - s);
        await sleep(S.startGapMs);
        const x = input(transferBody());
        s = performance.now();
        await client.workflow.start('transferMoney', { taskQueue: flowsQueue, workflowId: `transfer-${x.id}`, args: [x] });
        lat.bare.push(performance.now() - s);
        // Diagnostics: the start with the API's options (search attributes, summary), and the HTTP floor.
        await sleep(S.startGapMs);
        const y = input(transferBody());
        s = performance.now();
        await client.workflow.start('transferMoney', {
          taskQueue: flowsQueue,
          workflowId: `transfer-${y.id}`,
          args: [y],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: sa('TransferId', 'KEYWORD_LIST'), value: [y.id] },
            { key: sa('CustomerId'), value: y.fromAccountId },
            { key: sa('FlowStatus'), value: 'RUNNING' },
          ],
          staticSummary: `Transfer ${y.amount} ${y.fromAccountId} → ${y.toAccountId}`,
        });
        lat.full.push(performance.now() - s);
        s = performance.now();
        const h = await http.get('/healthz');
        if (h.status !== 200) throw new Error(`GET /healthz answered ${h.status}`);
        lat.floor.push(performance.now() - s);
      }
      hooks.end();
    });
    const n = S.startSamples * 3;
    const rate = (l) => S.startSamples / (l.reduce((a, b) => a + b, 0) / 1000);
    record('start-post', { tps: rate(lat.post), lat: summarize(lat.post), usage, extra: { measure: 'POST /v1/transfers with a new Idempotency-Key (required in production), no Prefer → 202; one at a time, paced (tps = 1000 / mean ms)', share_note: `cpu/rss cover all ${n} starts and the flows they started` } });
    record('start-client-api-options', { tps: rate(lat.full), lat: summarize(lat.full), usage, extra: { measure: 'client.workflow.start with the options the API sets (search attributes, summary, id policies); one at a time, paced' } });
    record('http-floor', { tps: rate(lat.floor), lat: summarize(lat.floor), usage, extra: { measure: 'GET /healthz: the HTTP + middleware floor of the API' } });
    record('start-bare', { tps: rate(lat.bare), lat: summarize(lat.bare), usage, extra: { measure: 'client.workflow.start from the bench process; one at a time, paced' } });
  }

  const awaiting = async () => Number((await ordersSql.query(`SELECT COUNT(*) AS n FROM orders WHERE status = 'AWAITING_APPROVAL'`))[0][0].n);
  let workerInflight;
  if (wanted.has('inflight')) {
    await settle({ client, ledgerSql, ordersSql }, 180_000);
    const before = groupSnapshot(worker.child.pid);
    const already = await awaiting();
    // In batches of 20, each parked before the next is sent: 200 checkouts started at once on 2 busy cores queue
    // their workflow tasks past the 10 s task timeout and thrash; what is measured is the worker holding them.
    for (let i = 0; i < S.inflight; i += 20) {
      const size = Math.min(20, S.inflight - i);
      const batch = await Promise.all(
        Array.from({ length: size }, (_, j) =>
          http.post('/v1/orders', { customerId: `cust-${i + j}`, paymentAccountId: accounts.ids[(i + j) % S.accounts], items: [{ sku: BIG.sku, quantity: 1 }] }, { 'idempotency-key': randomUUID() }),
        ),
      );
      for (const r of batch) if (r.status !== 202) throw new Error(`POST /v1/orders answered ${r.status}: ${r.text.slice(0, 200)}`);
      expected.inflight += size;
      await waitFor(`${i + size} orders AWAITING_APPROVAL`, async () => (await awaiting()) >= already + i + size, { timeoutMs: 120_000, intervalMs: 250 });
    }
    // RSS right after the last flow parked (peak) and once the worker has been idle a while (V8's memory reducer
    // collects the garbage of the burst): the steady state of a worker holding that many flows.
    // Up to settleS seconds; done early once RSS fell well below its peak and held for 4 s.
    const settleS = Number(opt['inflight-settle'] ?? (quick ? 35 : 60));
    let peak = 0;
    const trace = [];
    for (let t = 0; t <= settleS; t += 1) {
      const now = groupSnapshot(worker.child.pid).rssMb;
      peak = Math.max(peak, now);
      trace.push(round(now, 0));
      const last = trace.slice(-5);
      if (last.length === 5 && Math.max(...last) - Math.min(...last) < 3 && last[4] < 0.9 * peak) break;
      if (t < settleS) await sleep(1000);
    }
    const rss = groupSnapshot(worker.child.pid).rssMb;
    const after = groupSnapshot(worker.child.pid);
    let heaps;
    if (opt['mem-probe']) {
      const read = () =>
        readdirSync(memProbeDir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => JSON.parse(readFileSync(join(memProbeDir, f), 'utf8')));
      const beforeGc = read();
      writeFileSync(join(memProbeDir, 'gc'), '');
      await sleep(2500);
      heaps = { beforeGc, afterGc: read(), rssAfterGc: round(groupSnapshot(worker.child.pid).rssMb, 1) };
      writeFileSync(join(memProbeDir, 'snap'), '');
      await waitFor('worker heap snapshots', async () => existsSync(join(memProbeDir, 'snap-done')), { timeoutMs: 120_000 });
      const keep = join(root, 'bench/results/profiles', `heaps-${startedAt.replace(/[:.]/g, '-')}`); // gitignored
      mkdirSync(keep, { recursive: true });
      for (const f of readdirSync(memProbeDir).filter((f) => f.endsWith('.heapsnapshot'))) cpSync(join(memProbeDir, f), join(keep, f));
      log.info(`bench: worker thread heap snapshots in ${keep}`);
      log.info(`bench: worker heaps ${JSON.stringify(heaps)}`);
    }
    const open = await awaiting();
    workerInflight = {
      flows_in_flight: open,
      worker_rss_mb: round(rss, 1),
      worker_rss_peak_mb: round(peak, 1),
      worker_rss_trace_mb: trace,
      settle_s: settleS,
      worker_rss_before_mb: round(before.rssMb, 1),
      worker_rss_anon_mb: round(after.anonMb, 1),
      worker_rss_file_mb: round(after.fileMb, 1),
      worker_rss_anon_before_mb: round(before.anonMb, 1),
      worker_peak_rss_whole_run_mb: round(after.hwmMb, 1),
      worker_pid: after.pid,
      ...(heaps ? { heaps } : {}),
      how: `${S.inflight} checkout orders over the approval threshold held in AWAITING_APPROVAL (cached in the worker), RSS of the worker's node process (it serves every unit) after all earlier scenarios`,
    };
    log.info(`bench: worker RSS with ${open} flows in flight: ${workerInflight.worker_rss_mb} MB (before ${workerInflight.worker_rss_before_mb} MB)`);
  }

  // ---- correctness of the rejection paths --------------------------------------------------------------------------
  const paths = await pathChecks({ client, flowsQueue, TIMEOUTS, topology, accounts });

  // ---- audit -----------------------------------------------------------------------------------------------------
  const audit = await auditDb({ client, ledgerSql, ordersSql, inventorySql, onShard }, { expected, paths, moneyAtStart });
  for (const c of [...ledgerSql, ordersSql, inventorySql]) await c.end();
  await connection.close();
  http.close();
  httpBatched.close();

  // ---- results ---------------------------------------------------------------------------------------------------
  const get = (n) => scenarios.find((s) => s.name === n);
  const ratio = (a, b) => (a != null && b ? round(a / b, 3) : null);
  const at = (mode, level) => get(`${mode}@${level}`);
  const ratios = {
    batched_vs_direct_at_64: ratio(at('batched', 64)?.tps, at('direct-db', 64)?.tps),
    saga_vs_0_2_at_64: ratio(at('saga', 64)?.tps, SAGA_0_2_TPS),
    batched_vs_saga_at_64: ratio(at('batched', 64)?.tps, at('saga', 64)?.tps),
    saga_vs_direct_at_64: ratio(at('saga', 64)?.tps, at('direct-db', 64)?.tps),
    post_vs_client_start: ratio(get('start-post')?.p50_ms, get('start-bare')?.p50_ms),
    sync_p50_vs_direct_paced_p50: ratio(get(DEFAULT_SYNC)?.p50_ms, get('direct-db-paced')?.p50_ms),
  };
  const value = (v) => v ?? null;
  const targets = {
    batched_vs_direct_at_64: { target: '>= 0.45', value: ratios.batched_vs_direct_at_64, met: ratios.batched_vs_direct_at_64 != null ? ratios.batched_vs_direct_at_64 >= 0.45 : null },
    saga_vs_0_2_at_64: { target: `>= 2 (0.2: ${SAGA_0_2_TPS} tps)`, value: ratios.saga_vs_0_2_at_64, met: ratios.saga_vs_0_2_at_64 != null ? ratios.saga_vs_0_2_at_64 >= 2 : null },
    sync_p50_ms_at_fixed_rate: { target: `<= 30 (${S.syncRate}/s, ${DEFAULT_SYNC})`, value: value(get(DEFAULT_SYNC)?.p50_ms), met: get(DEFAULT_SYNC) ? get(DEFAULT_SYNC).p50_ms <= 30 : null },
    post_vs_client_start: { target: '<= 1.2', value: ratios.post_vs_client_start, met: ratios.post_vs_client_start != null ? ratios.post_vs_client_start <= 1.2 : null },
    worker_rss_200_inflight_mb: { target: '<= 300', value: value(workerInflight?.worker_rss_mb), met: workerInflight ? workerInflight.worker_rss_mb <= 300 : null },
  };
  const co = get('checkout');
  const result = {
    machine: mach,
    startedAt,
    finishedAt: new Date().toISOString(),
    label: opt.label || undefined,
    settings: {
      quick,
      runtime: opt.runtime,
      workflow_tracing: opt['workflow-tracing'],
      worker_node_args: opt['worker-node-args'] || undefined,
      ...S,
      ledger_shards: SHARDS,
      accounts_by_shard: accounts.byShard.map((l) => l.length),
      task_queue_prefix: prefix,
      databases: mariadbs.map((s) => ({ server: s.name, port: s.port, databases: s.databases })),
      dynamic_config: { ...DYNAMIC_CONFIG },
      worker_env: kv(opt['worker-env']),
      api_env: kv(opt['api-env']),
    },
    scenarios,
    ratios,
    targets,
    checkout_orders_per_s: co ? { in_flight: co.concurrency, orders_per_s: co.tps, p50_ms: co.p50_ms, p99_ms: co.p99_ms } : null,
    worker_rss_200_inflight_mb: workerInflight?.worker_rss_mb ?? null,
    inflight: workerInflight,
    modes,
    audit,
  };
  const outDir = join(root, 'bench/results');
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  const latest = opt.cluster ? 'cluster-latest' : 'latest';
  writeFileSync(join(outDir, `${latest}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const stamp = startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, 'runs', `${stamp}${opt.label ? `-${opt.label.replace(/[^\w.-]+/g, '_')}` : ''}${quick ? '-quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, `${latest}.md`), markdown(result));
  const svg = chart(result);
  if (svg && !opt.cluster) writeFileSync(join(outDir, 'latest.svg'), svg);
  process.stdout.write(markdown(result));

  if (opt['cpu-prof']) {
    await stop(api);
    await stop(worker);
    const keep = join(root, 'bench/results/profiles', stamp);
    if (existsSync(profDir)) {
      mkdirSync(keep, { recursive: true });
      cpSync(profDir, keep, { recursive: true });
      log.info(`bench: CPU profiles in ${keep}`);
    }
  }
  return audit.ok ? 0 : 1;
}

/**
 * Every path of the transfer saga, started straight on Temporal (the API refuses these up front), each across the
 * shards: insufficient funds (the debit is rejected: COMPENSATED, nothing moved), a credit rejected after the debit
 * (EUR destination: the debit is refunded: COMPENSATED), and a plain transfer (COMPLETED) across and within a shard.
 */
async function pathChecks({ client, flowsQueue, TIMEOUTS, topology, accounts }) {
  const elsewhere = (id) => accounts.byShard[(shardOf(id, SHARDS) + 1) % SHARDS];
  const [a, b] = accounts.byShard[0];
  const cases = [
    { name: 'insufficient-funds', from: 'path-poor', to: elsewhere('path-poor')[0], status: 'COMPENSATED', code: 'InsufficientFunds' },
    { name: 'credit-rejected-refund', from: elsewhere('path-eur')[1], to: 'path-eur', status: 'COMPENSATED', code: 'CurrencyMismatch' },
    { name: 'completed-cross-shard', from: a, to: elsewhere(a)[0], status: 'COMPLETED' },
    { name: 'completed-same-shard', from: a, to: b, status: 'COMPLETED' },
  ];
  const results = [];
  for (const c of cases) {
    const id = idOnShard(shardOf(c.from, SHARDS), 'path-');
    const handle = await client.workflow.start('transferMoney', {
      taskQueue: flowsQueue,
      workflowId: `transfer-${id}`,
      args: [{ id, fromAccountId: c.from, toAccountId: c.to, amount: 100, currency: 'USD', memo: null, timeouts: TIMEOUTS, topology }],
    });
    const r = await handle.result();
    const ok = r.status === c.status && (!c.code || r.reason?.code === c.code);
    results.push({ id, path: c.name, from: c.from, to: c.to, shards: [shardOf(c.from, SHARDS), shardOf(c.to, SHARDS)], expected: c.status, status: r.status, reason: r.reason?.code ?? null, ok });
  }
  const bad = results.filter((r) => !r.ok);
  (bad.length ? log.error : log.info)(`bench: saga paths: ${bad.length ? `FAILED ${JSON.stringify(bad)}` : `all ${results.length} as expected`}`);
  return results;
}

/** Waits until no transfer runs (no RUNNING row on any shard, no open transferMoney) and no order is PENDING. */
async function settle({ client, ledgerSql, ordersSql }, timeoutMs) {
  await waitFor(
    'every transfer and order finished',
    async () => {
      for (const sql of ledgerSql) {
        const [[row]] = await sql.query(`SELECT COUNT(*) AS n FROM transfers WHERE status = 'RUNNING'`);
        if (Number(row.n) !== 0) return false;
      }
      const [[pending]] = await ordersSql.query(`SELECT COUNT(*) AS n FROM orders WHERE status = 'PENDING'`);
      if (Number(pending.n) !== 0) return false;
      return (await client.workflow.count(`WorkflowType IN ('transferMoney', 'transferBatch') AND ExecutionStatus = 'Running'`)).count === 0;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** balance + frozen summed on each shard, and over all of them. */
async function totalMoney(ledgerSql) {
  const byShard = [];
  for (const sql of ledgerSql) byShard.push(Number((await sql.query('SELECT COALESCE(SUM(balance + frozen), 0) AS m FROM accounts'))[0][0].m));
  return { byShard, total: byShard.reduce((a, b) => a + b, 0) };
}

/**
 * The databases after the run: money conserved summed over both shards; on each shard every account's ledger sums to
 * its balance and every account and ledger entry is on the shard its account id maps to; every transfer COMPLETED
 * exactly once, its row on its source's shard, with one barrier row per branch (debit on the source's shard, credit
 * on the destination's) and one ledger entry each; the rejection paths as expected; orders, stock, payments and the
 * merchant's credit consistent with each other.
 */
async function auditDb({ client, ledgerSql, ordersSql, inventorySql, onShard }, { expected, paths, moneyAtStart }) {
  const problems = [];
  const cap = (list, n = 3) => (list.length > n ? [...list.slice(0, n), `… ${list.length - n} more`] : list);
  try {
    await settle({ client, ledgerSql, ordersSql }, 180_000);
  } catch (err) {
    problems.push(err.message);
  }
  const rows = async (sql, text, args = []) => (await sql.query(text, args))[0];

  // Money, over both shards.
  const money = await totalMoney(ledgerSql);
  const seeded = S.accounts * INITIAL + POOR;
  if (moneyAtStart.total !== seeded) problems.push(`seeded ${moneyAtStart.total}, expected ${seeded}`);
  if (money.total !== moneyAtStart.total) problems.push(`money not conserved: ${money.total} (by shard ${money.byShard.join(' + ')}) != ${moneyAtStart.total}`);

  // Ledgers and placement, per shard.
  for (const [s, sql] of ledgerSql.entries()) {
    const [off] = await rows(sql, `SELECT COUNT(*) AS n FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount) AS s FROM ledger_entries GROUP BY account_id) l ON l.account_id = a.id WHERE a.balance <> COALESCE(l.s, 0)`);
    if (Number(off.n) !== 0) problems.push(`shard ${s}: ${off.n} accounts whose ledger does not sum to the balance`);
    const [stray] = await rows(sql, 'SELECT COUNT(*) AS n FROM ledger_entries l LEFT JOIN accounts a ON a.id = l.account_id WHERE a.id IS NULL');
    if (Number(stray.n) !== 0) problems.push(`shard ${s}: ${stray.n} ledger entries of accounts not on this shard`);
    const misplaced = (await rows(sql, 'SELECT id FROM accounts')).filter((r) => shardOf(r.id, SHARDS) !== s).map((r) => r.id);
    if (misplaced.length) problems.push(`shard ${s}: accounts of another shard: ${cap(misplaced).join(', ')}`);
  }

  // Transfers: each exactly once, on its source's shard, COMPLETED. The modes scenario's (tcc/xa rows and barriers of
  // their own) are audited apart, below.
  const transfers = new Map();
  const modeTransfers = new Map();
  const dupes = [];
  const wrongShard = [];
  for (const [s, sql] of ledgerSql.entries()) {
    for (const r of await rows(sql, `SELECT id, from_account_id AS f, to_account_id AS t, status, memo FROM transfers WHERE id NOT LIKE 'path-%'`)) {
      if (r.memo?.startsWith(MODES_MEMO)) {
        modeTransfers.set(r.id, r);
        continue;
      }
      if (transfers.has(r.id)) dupes.push(r.id);
      const src = shardOf(r.f, SHARDS);
      if (src !== s || shardOf(r.id, SHARDS) !== s) wrongShard.push(`${r.id} on ${s} (source ${r.f} on ${src})`);
      transfers.set(r.id, { ...r, src, dst: shardOf(r.t, SHARDS) });
    }
  }
  const byStatus = {};
  let crossShard = 0;
  for (const x of transfers.values()) {
    byStatus[x.status] = (byStatus[x.status] ?? 0) + 1;
    if (x.src !== x.dst) crossShard++;
  }
  const total = transfers.size;
  if (total !== (byStatus.COMPLETED ?? 0)) problems.push(`transfers not all COMPLETED: ${JSON.stringify(byStatus)}`);
  if (dupes.length) problems.push(`${dupes.length} transfers with a row on two shards: ${cap(dupes).join(', ')}`);
  if (wrongShard.length) problems.push(`${wrongShard.length} transfer rows off their source's shard: ${cap(wrongShard).join('; ')}`);
  if (expected.httpCompleted > (byStatus.COMPLETED ?? 0)) problems.push(`API reported ${expected.httpCompleted} COMPLETED, the databases have ${byStatus.COMPLETED}`);

  // Per transfer: exactly the barrier rows (debit/action on the source's shard, credit/action on the destination's)
  // and the ledger entries (debit of the source, credit of the destination) it should have, and nothing for flows
  // without a transfer row.
  async function perFlow(what, query, shape, want) {
    const found = new Map();
    let n = 0;
    for (const [s, sql] of ledgerSql.entries()) {
      for (const r of await rows(sql, query)) {
        const id = r.flow_id.slice('transfer-'.length);
        if (!found.has(id)) found.set(id, []);
        found.get(id).push(shape(s, r));
        n++;
      }
    }
    const bad = [];
    for (const [id, x] of transfers) {
      const got = (found.get(id) ?? []).sort().join(' ');
      const exp = want(x).sort().join(' ');
      if (got !== exp) bad.push(`${id}: ${got || 'none'} (expected ${exp})`);
    }
    const orphans = [...found.keys()].filter((id) => !transfers.has(id) && !modeTransfers.has(id));
    if (bad.length) problems.push(`${bad.length} transfers with the wrong ${what}: ${cap(bad).join('; ')}`);
    if (orphans.length) problems.push(`${orphans.length} flows with ${what} but no transfer row: ${cap(orphans).join(', ')}`);
    return n;
  }
  const barrierRows = await perFlow(
    'barrier rows',
    `SELECT flow_id, branch_id, op FROM barriers WHERE flow_id LIKE 'transfer-%' AND flow_id NOT LIKE 'transfer-path-%'`,
    (s, r) => `${s}:${r.branch_id}/${r.op}`,
    (x) => [`${x.src}:debit/action`, `${x.dst}:credit/action`],
  );
  const entryRows = await perFlow(
    'ledger entries',
    `SELECT flow_id, step, account_id FROM ledger_entries WHERE flow_id LIKE 'transfer-%' AND flow_id NOT LIKE 'transfer-path-%'`,
    (s, r) => `${s}:${r.step}/${r.account_id}`,
    (x) => [`${x.src}:debit/${x.f}`, `${x.dst}:credit/${x.t}`],
  );

  problems.push(...(await auditModes(ledgerSql, modeTransfers)));

  // The rejection paths: their flows ended as expected, their rows (on the source's shard) say so, and the refunds
  // put the money back.
  for (const p of paths) {
    if (!p.ok) problems.push(`path ${p.path} ended ${p.status}/${p.reason}`);
    const [row] = await rows(onShard(p.from), 'SELECT status, reason_code FROM transfers WHERE id = ?', [p.id]);
    if (row?.status !== p.expected) problems.push(`path ${p.path} (${p.id}): row ${row?.status ?? 'missing'} on shard ${shardOf(p.from, SHARDS)}, expected ${p.expected}`);
  }
  const [poor] = await rows(onShard('path-poor'), `SELECT balance, frozen FROM accounts WHERE id = 'path-poor'`);
  const [eur] = await rows(onShard('path-eur'), `SELECT balance, frozen FROM accounts WHERE id = 'path-eur'`);
  if (Number(poor.balance) !== POOR || Number(eur.balance) !== 0) problems.push(`rejected transfers moved money: path-poor ${poor.balance}, path-eur ${eur.balance}`);

  // Orders (checkout: CONFIRMED; inflight: AWAITING_APPROVAL), against stock, payments and the merchant's credit.
  const orders = Object.fromEntries((await rows(ordersSql, 'SELECT status, COUNT(*) AS n, COALESCE(SUM(total), 0) AS total FROM orders GROUP BY status')).map((r) => [r.status, { n: Number(r.n), total: Number(r.total) }]));
  const ordersOf = (st) => orders[st] ?? { n: 0, total: 0 };
  const others = Object.keys(orders).filter((st) => st !== 'CONFIRMED' && st !== 'AWAITING_APPROVAL');
  if (others.length) problems.push(`orders neither CONFIRMED nor AWAITING_APPROVAL: ${JSON.stringify(orders)}`);
  if (ordersOf('AWAITING_APPROVAL').n !== expected.inflight) problems.push(`${ordersOf('AWAITING_APPROVAL').n} orders AWAITING_APPROVAL, ${expected.inflight} held`);
  if (expected.ordersConfirmed > ordersOf('CONFIRMED').n) problems.push(`API reported ${expected.ordersConfirmed} CONFIRMED, the orders database has ${ordersOf('CONFIRMED').n}`);
  const qty = async (st) =>
    Object.fromEntries((await rows(ordersSql, 'SELECT i.sku, SUM(i.quantity) AS q FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status = ? GROUP BY i.sku', [st])).map((r) => [r.sku, Number(r.q)]));
  const [sold, held] = [await qty('CONFIRMED'), await qty('AWAITING_APPROVAL')];
  for (const p of await rows(inventorySql, 'SELECT sku, stock, reserved FROM products')) {
    const initial = [BIG, ITEM].find((x) => x.sku === p.sku)?.stock;
    if (Number(p.stock) !== initial - (sold[p.sku] ?? 0) || Number(p.reserved) !== (held[p.sku] ?? 0)) {
      problems.push(`product ${p.sku}: stock ${p.stock} reserved ${p.reserved}, expected ${initial - (sold[p.sku] ?? 0)} / ${held[p.sku] ?? 0}`);
    }
  }
  const payments = {};
  for (const sql of ledgerSql) for (const r of await rows(sql, 'SELECT state, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS a FROM payments GROUP BY state')) {
    payments[r.state] = { n: (payments[r.state]?.n ?? 0) + Number(r.n), amount: (payments[r.state]?.amount ?? 0) + Number(r.a) };
  }
  if ((payments.CAPTURED?.n ?? 0) !== ordersOf('CONFIRMED').n || (payments.FROZEN?.n ?? 0) !== ordersOf('AWAITING_APPROVAL').n || payments.RELEASED) {
    problems.push(`payments ${JSON.stringify(payments)} for orders ${JSON.stringify(orders)}`);
  }
  // The merchant's sales, spread over its sub-accounts (MERCHANT_SUB_ACCOUNTS) on their shards: owner 'merchant'.
  let merchant = 0;
  for (const sql of ledgerSql) merchant += Number((await rows(sql, `SELECT COALESCE(SUM(balance + frozen), 0) AS m FROM accounts WHERE owner = 'merchant' AND currency = 'USD'`))[0].m);
  if (merchant !== ordersOf('CONFIRMED').total) problems.push(`the merchant's USD accounts hold ${merchant}, the confirmed orders total ${ordersOf('CONFIRMED').total}`);

  const ok = problems.length === 0;
  (ok ? log.info : log.error)(
    `bench: audit ${ok ? 'passed' : 'FAILED'}: ${total} transfers ${JSON.stringify(byStatus)} (${round(total ? crossShard / total : 0, 3)} cross-shard), ${barrierRows} barrier rows, orders ${JSON.stringify(orders)}${ok ? '' : `; ${problems.join('; ')}`}`,
  );
  return {
    ok,
    transfers: byStatus,
    cross_shard: total ? round(crossShard / total, 3) : null,
    barrier_rows: barrierRows,
    ledger_entries: entryRows,
    money: { at_start: moneyAtStart.total, at_end: money.total, by_shard_at_start: moneyAtStart.byShard, by_shard_at_end: money.byShard },
    http_completed: expected.httpCompleted,
    orders,
    orders_confirmed_by_api: expected.ordersConfirmed,
    payments,
    paths,
    problems,
  };
}

// ---- the modes scenario: saga, tcc and xa side by side (kept in one block) ---------------------------------------------

const MODES_MEMO = 'bench-modes';

/** InnoDB row-lock waits so far, summed over the ledger servers (one connection per server). */
async function rowLockWaits(ledgerSql) {
  let waits = 0;
  let timeMs = 0;
  for (const sql of ledgerSql) {
    const [rows] = await sql.query("SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_%'");
    const v = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
    waits += v.Innodb_row_lock_waits ?? 0;
    timeMs += v.Innodb_row_lock_time ?? 0;
  }
  return { waits, timeMs };
}

async function modesScenario({ http, ledgerSql, measured, windowHooks, record }) {
  const levels = opt['modes-concurrency'].split(',').map(Number).filter((n) => n > 0);
  const rows = [];
  for (const concurrency of levels) {
    for (const mode of ['saga', 'tcc', 'xa']) {
      const outcomes = {};
      let locksAtStart;
      let locksAtEnd;
      const op = async () => {
        const body = { ...transferBody(), consistency: mode, memo: `${MODES_MEMO} ${mode}` };
        const r = await http.post('/v1/transfers', body, { prefer: 'wait=30', 'idempotency-key': randomUUID() });
        const k = `${r.status} ${r.body?.data?.status ?? r.body?.code ?? ''}`.trim();
        outcomes[k] = (outcomes[k] ?? 0) + 1;
        if (r.status >= 400) throw new Error(`POST /v1/transfers (${mode}) ${r.status}: ${r.text.slice(0, 300)}`);
        return r.status === 200 && r.body?.data?.status === 'COMPLETED';
      };
      const { r, usage } = await measured(async (hooks) => {
        const wrapped = {
          start: () => (hooks.start(), rowLockWaits(ledgerSql).then((l) => (locksAtStart ??= l))),
          end: () => (hooks.end(), rowLockWaits(ledgerSql).then((l) => (locksAtEnd ??= l))),
        };
        const cancel = windowHooks(wrapped, S.warmupMs, S.durationMs);
        const res = await closedLoop({ concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, op });
        cancel();
        return res;
      });
      locksAtStart ??= await rowLockWaits(ledgerSql);
      locksAtEnd ??= await rowLockWaits(ledgerSql);
      const cpu = ['api', 'worker', 'mariadb_a', 'mariadb_b', 'temporal'].reduce((a, k) => a + (usage[k]?.cpu_s ?? 0), 0);
      const lockWaits = locksAtEnd.waits - locksAtStart.waits;
      const s = record(`modes-${mode}@${concurrency}`, {
        tps: r.ok / r.windowS,
        lat: summarize(r.latencies),
        usage,
        extra: {
          concurrency,
          consistency: mode,
          errors: r.errors,
          outcomes,
          cpu_ms_per_transfer: r.ok ? round((cpu * 1000) / r.ok, 1) : null,
          row_lock_waits: lockWaits,
          row_lock_waits_per_transfer: r.ok ? round(lockWaits / r.ok, 3) : null,
          row_lock_wait_ms: locksAtEnd.timeMs - locksAtStart.timeMs,
          measure: 'transfers COMPLETED per second (POST with consistency and Prefer: wait=30 answered 200 COMPLETED), closed loop',
        },
      });
      rows.push({ mode, concurrency, tps: s.tps, p50_ms: s.p50_ms, p99_ms: s.p99_ms, cpu_ms_per_transfer: s.cpu_ms_per_transfer, row_lock_waits: lockWaits, row_lock_wait_ms: s.row_lock_wait_ms });
    }
  }
  return rows;
}

/** The modes scenario's transfers: each COMPLETED, nothing frozen or pending on any account, no prepared XA left. */
async function auditModes(ledgerSql, modeTransfers) {
  const problems = [];
  const notDone = [...modeTransfers.values()].filter((t) => t.status !== 'COMPLETED');
  if (notDone.length) problems.push(`${notDone.length} modes transfers not COMPLETED`);
  for (const [s, sql] of ledgerSql.entries()) {
    // Frozen money belongs to held payments only (the inflight scenario's orders awaiting approval hold theirs on
    // purpose); anything else frozen, or any pending credit, is a transfer hold left behind.
    const [[left]] = await sql.query(
      `SELECT COUNT(*) AS n FROM accounts a
         LEFT JOIN (SELECT account_id, SUM(amount) AS held FROM payments WHERE state = 'FROZEN' GROUP BY account_id) p ON p.account_id = a.id
        WHERE a.frozen <> COALESCE(p.held, 0) OR a.pending <> 0`,
    );
    if (Number(left.n)) problems.push(`shard ${s}: ${left.n} accounts with a transfer's money held or pending`);
    const [prepared] = await sql.query('XA RECOVER');
    if (prepared.length) problems.push(`shard ${s}'s server: ${prepared.length} prepared XA transactions left`);
  }
  return problems;
}

function modesMarkdown(modes) {
  if (!modes?.length) return [];
  return [
    '### The three guarantees side by side (modes)',
    '',
    '| mode | in flight | tps | p50 ms | p99 ms | CPU ms / transfer | row-lock waits | row-lock wait ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...modes.map((m) => `| ${m.mode} | ${m.concurrency} | ${m.tps} | ${m.p50_ms} | ${m.p99_ms} | ${m.cpu_ms_per_transfer ?? ''} | ${m.row_lock_waits} | ${m.row_lock_wait_ms} |`),
    '',
    'CPU per transfer: API + worker + both MariaDB servers + Temporal CPU in the window over the transfers completed in it. Row-lock waits: InnoDB row-lock waits (and their total time) on the two ledger servers in the window.',
    '',
  ];
}

function markdown(r) {
  const m = r.machine;
  const st = r.settings;
  const dbs = (st.databases ?? []).map((d) => `${d.server.toUpperCase()}: ${d.databases.join(', ')}`).join('; ');
  const lines = [
    `# sagaflow bench${st.quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${m.cores} cores, ${m.ram_gb} GiB RAM, ${m.cpu_model}, Node ${m.node}, ${m.os}. Load average at start ${m.loadavg_at_start.join(' ')}` +
      (m.concurrent_load.length ? `; **other load running**: ${m.concurrent_load.length} process(es) (${m.concurrent_load.map((l) => l.split(/\s+/).slice(1, 4).join(' ')).join('; ')})` : '; machine otherwise quiet') +
      '.',
    '',
    `Started ${r.startedAt}; ${st.durationMs / 1000} s windows (${st.pacedMs / 1000} s for the fixed-rate ones) after ${st.warmupMs / 1000} s warm-up, concurrency ${st.concurrency} (checkout ${st.checkoutConcurrency}, after ${Math.max(st.warmupMs, st.checkoutWarmupMs ?? 0) / 1000} s warm-up), ${st.accounts} accounts over ${st.ledger_shards} ledger shards (${(st.accounts_by_shard ?? []).join(' / ')}), ${Math.round(st.cross * 100)} % of transfers across shards, runtime ${st.runtime}. ` +
      `Two MariaDB servers (${dbs}), the Temporal dev server, the API, one worker process serving every unit and the load generator share the same cores.`,
    '',
    '| scenario | tps | p50 ms | p95 ms | p99 ms | app CPU s | app RSS MB | API CPU s | worker CPU s | MariaDB A CPU s | MariaDB B CPU s | Temporal CPU s | bench CPU s | idle / other / steal CPU s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const c = (s, k) => (s.procs?.[k]?.cpu_s ?? '');
  for (const s of r.scenarios) {
    lines.push(
      `| ${s.name}${s.rate ? ` (@${s.rate}/s)` : ''}${s.name === 'checkout' ? ` (C=${s.concurrency})` : ''} | ${s.tps} | ${s.p50_ms} | ${s.p95_ms} | ${s.p99_ms} | ${s.cpu_s} | ${s.rss_mb} | ${c(s, 'api')} | ${c(s, 'worker')} | ${c(s, 'mariadb_a')} | ${c(s, 'mariadb_b')} | ${c(s, 'temporal')} | ${c(s, 'bench')} | ${s.machine_cpu ? `${s.machine_cpu.idle_s} / ${s.machine_cpu.other_s} / ${s.machine_cpu.steal_s}` : ''} |`,
    );
  }
  lines.push(
    '',
    'tps: completed transfers per second in the window (saga/sync: POST answered 200 COMPLETED; checkout: orders per second, POST /v1/orders answered 200 CONFIRMED); for start-*/http-floor, 1000 / mean latency of one call at a time. ' +
      'CPU s: CPU seconds in the window (start-*: over the whole interleaved start run, flows included), MariaDB per server (A: ledger shard 0, orders, api; B: ledger shard 1, inventory, loyalty); idle / other / steal: machine-wide idle CPU, CPU used by processes outside this bench, and CPU taken by the hypervisor in the same window. app CPU/RSS: the direct-db process for direct-db*, API + worker otherwise (RSS: peak of each node process in the window, summed).',
    '',
  );
  if (r.checkout_orders_per_s) {
    const k = r.checkout_orders_per_s;
    lines.push(`Checkout at ${k.in_flight} in flight: **${k.orders_per_s} orders/s**, p50 ${k.p50_ms} ms, p99 ${k.p99_ms} ms.`, '');
  }
  if (r.inflight) {
    const i = r.inflight;
    lines.push(
      `Worker with ${i.flows_in_flight} flows in flight (orders held in AWAITING_APPROVAL): ${i.worker_rss_mb} MB RSS once settled (peak ${i.worker_rss_peak_mb} MB right after they parked; ${i.worker_rss_before_mb} MB before), after all the scenarios above.`,
      '',
    );
  }
  const levelled = r.scenarios.filter((s) => s.name.includes('@'));
  if (levelled.length) {
    const modes = [...new Set(levelled.map((s) => s.name.split('@')[0]))];
    const levels = [...new Set(levelled.map((s) => s.level))].sort((a, b) => a - b);
    lines.push('Transfers against concurrency (tps · p50 / p99 ms · CPU ms per transfer, all processes but MariaDB):', '', `| mode | ${levels.map((l) => `${l} in flight`).join(' | ')} |`, `|---|${levels.map(() => '---:').join('|')}|`);
    for (const m of modes) {
      const cells = levels.map((l) => {
        const s = r.scenarios.find((x) => x.name === `${m}@${l}`);
        return s ? `${s.tps} · ${s.p50_ms} / ${s.p99_ms} · ${s.cpu_ms_per_op ?? '?'}` : '';
      });
      lines.push(`| ${m} | ${cells.join(' | ')} |`);
    }
    lines.push('', '![throughput and latency against concurrency](latest.svg)', '');
  }
  lines.push(...modesMarkdown(r.modes));
  lines.push('| target | value | target | met |', '|---|---:|---|---|');
  for (const [k, t] of Object.entries(r.targets)) lines.push(`| ${k} | ${t.value ?? 'n/a'} | ${t.target} | ${t.met == null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
  for (const [k, v] of Object.entries(r.ratios)) if (!(k in r.targets)) lines.push(`| ${k} | ${v ?? 'n/a'} | | |`);
  const perOp = r.scenarios.filter((s) => s.cpu_ms_per_op != null && !s.name.startsWith('direct'));
  if (perOp.length) {
    const procs = ['api', 'api_batched', 'worker', 'temporal', 'mariadb_a', 'mariadb_b', 'bench'];
    lines.push('', 'CPU ms per completed transfer, by process:', '', `| scenario | ${procs.join(' | ')} |`, `|---|${procs.map(() => '---:').join('|')}|`);
    for (const s of perOp) lines.push(`| ${s.name} | ${procs.map((p) => s.procs?.[p]?.cpu_ms_per_op ?? '').join(' | ')} |`);
  }
  const a = r.audit;
  const paths = a.paths ?? [];
  lines.push(
    '',
    `Audit: ${a.ok ? 'passed' : '**FAILED**'} — transfers ${JSON.stringify(a.transfers)} (${a.cross_shard ?? 'n/a'} across shards), each row on its source's shard, ${a.barrier_rows} barrier rows (one per branch, on the branch's shard), ${a.ledger_entries} transfer ledger entries; ` +
      `money ${a.money.at_end === a.money.at_start ? 'conserved' : '**not conserved**'} over both shards (${a.money.by_shard_at_end.join(' + ')}), every ledger sums to its balance; orders ${JSON.stringify(a.orders)} with stock, payments and merchant credit matching; ` +
      `rejection paths: ${paths.filter((p) => p.ok).length}/${paths.length} as expected${a.problems.length ? `; ${a.problems.join('; ')}` : ''}.`,
    '',
  );
  return `${lines.join('\n')}\n`;
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
