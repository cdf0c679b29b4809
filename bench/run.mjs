#!/usr/bin/env node
// `npm run bench [-- --quick] [options]`: throughput and latency of sagaflow's transfer saga on this machine, against
// the same SQL without orchestration. One process tree: an ephemeral stack (fresh MariaDB + in-memory Temporal dev
// server on free ports, like `npm test`), migrations, a prebuilt workflow bundle, one worker and one API process,
// 200 seeded accounts; then the scenarios one after another (see bench/NOTES.md):
//   direct-db      the transfer's SQL in one local transaction per transfer, from Node via Sequelize (the limit)
//   saga-remote    POST /v1/transfers with Prefer: wait=30, closed loop, regular activities: each request ends when its
//                  flow is COMPLETED, so completions per second are counted directly (200 COMPLETED answers only)
//   sync-remote    the same at a fixed arrival rate (open loop) of half saga-remote's maximum, Prefer: wait=10
//   saga-local     saga-remote with FLOW_LOCAL_ACTIVITIES=true (the steps as local activities; the default)
//   sync-local     sync with local activities
//   direct-db-paced the direct-db transaction at the sync rate (open loop): the like-for-like latency baseline of sync
//   start          POST /v1/transfers without wait vs a bare client.workflow.start from this process, one at a time,
//                  interleaved and paced (plus, as diagnostics, a start with the API's options and GET /healthz)
//   inflight       worker RSS with 200 orders held in AWAITING_APPROVAL (peak, and settled after V8's memory reducer)
// then runs every rejection path of the saga in both modes and audits the database (money conserved, ledgers sum to
// balances, every transfer COMPLETED exactly once). Writes bench/results/latest.json and latest.md (and a copy of the
// JSON under bench/results/runs/), stops everything it started. What the numbers mean: bench/NOTES.md.
//
// Options: --quick (10 s windows, < 3 min in all) --duration S --warmup S --concurrency N --accounts N
//   --scenarios a,b,c  --label TEXT  --worker-env K=V / --api-env K=V (repeatable)  --worker-node-args='--flag …'
//   --dyncfg K=V (repeatable, Temporal dev server dynamic config) --no-bench-dyncfg (the project's dynamic config only)
//   --runtime tsx|js (js: sources transpiled once and run by plain node, like the Docker image)
//   --cpu-prof (CPU profiles of the worker and the API, kept in bench/results/profiles/) --mem-probe (V8 heap statistics
//   and worker-thread heap snapshots of the worker) --no-workflow-tracing / --preload m1,m2 (bundle experiments)
//   --keep-logs (service logs kept in bench/results/logs/) --start-samples N --inflight N --inflight-settle S
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, existsSync, cpSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDeps } from '../scripts/lib/deps.mjs';
import { log } from '../scripts/lib/log.mjs';
import { cleanup, freePort, onCleanup, start, stop, stopOnSignals, waitFor } from '../scripts/lib/procs.mjs';
import { loadSearchAttributes } from '../scripts/lib/project.mjs';
import { provision } from '../scripts/lib/stack.mjs';
import { DYNAMIC_CONFIG } from '../scripts/lib/temporal-server.mjs';
import { closedLoop, httpClient, openLoop } from './lib/load.mjs';
import { groupSnapshot, meter } from './lib/proc.mjs';
import { round, summarize } from './lib/stats.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const benchStart = Date.now();
const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    concurrency: { type: 'string' },
    accounts: { type: 'string', default: '200' },
    scenarios: { type: 'string' },
    label: { type: 'string', default: '' },
    'worker-env': { type: 'string', multiple: true, default: [] },
    'api-env': { type: 'string', multiple: true, default: [] },
    dyncfg: { type: 'string', multiple: true, default: [] },
    'no-bench-dyncfg': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'mem-probe': { type: 'boolean', default: false },
    preload: { type: 'string' },
    'no-workflow-tracing': { type: 'boolean', default: false },
    'keep-logs': { type: 'boolean', default: false },
    runtime: { type: 'string', default: 'tsx' },
    'worker-node-args': { type: 'string', default: '' },
    'start-samples': { type: 'string' },
    inflight: { type: 'string', default: '200' },
    'inflight-settle': { type: 'string' },
  },
});
const quick = opt.quick;
const S = {
  durationMs: 1000 * Number(opt.duration ?? (quick ? 10 : 30)),
  warmupMs: 1000 * Number(opt.warmup ?? (quick ? 2 : 5)),
  // the fixed-rate scenarios (sync, direct-db-paced) need fewer seconds than the saturation ones for stable p50/p95
  pacedMs: 1000 * Number(opt.duration ?? (quick ? 8 : 30)),
  concurrency: Number(opt.concurrency ?? 64),
  accounts: Number(opt.accounts),
  startSamples: Number(opt['start-samples'] ?? (quick ? 40 : 200)),
  startGapMs: 100,
  inflight: Number(opt.inflight),
};
const ALL = ['direct-db', 'saga-remote', 'sync-remote', 'saga-local', 'sync-local', 'direct-db-paced', 'start', 'inflight'];
const wanted = new Set(opt.scenarios ? opt.scenarios.split(',').map((s) => s.trim()) : ALL);
for (const w of wanted) if (!ALL.includes(w)) throw new Error(`unknown scenario ${w} (${ALL.join(', ')})`);
const kv = (list) => Object.fromEntries(list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));

const PREFIX = 'bench-';
const INITIAL = 100_000_000_000; // minor units per account: no transfer is ever short of funds
const API_KEY = 'bench-key-0123456789';
const TIMEOUTS = { stepStartToCloseMs: 10_000, stepScheduleToCloseMs: 120_000, compensationStuckAfterMs: 300_000 };

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

function pickPair(n) {
  const from = Math.floor(Math.random() * n);
  let to = Math.floor(Math.random() * (n - 1));
  if (to >= from) to++;
  return [`${PREFIX}${from}`, `${PREFIX}${to}`];
}

const transferBody = () => {
  const [fromAccountId, toAccountId] = pickPair(S.accounts);
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
  const stack = await provision({ mode: 'test', root, searchAttributes: await loadSearchAttributes(root) });
  if (opt['keep-logs']) {
    onCleanup(() => {
      const dest = join(root, 'bench/results/logs', startedAt.replace(/[:.]/g, '-'));
      mkdirSync(dest, { recursive: true });
      cpSync(stack.logDir, dest, { recursive: true });
      log.info(`bench: logs kept in ${dest}`);
    });
  }
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const baseEnv = { DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: stack.temporal.address, NODE_ENV: 'production', LOG_LEVEL: 'warn', OTEL_TRACES_EXPORTER: 'none' };
  const migrated = spawnSync(tsx, ['src/db/migrate-cli.ts', 'up'], { cwd: root, env: { ...process.env, ...baseEnv }, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`migrations failed: ${migrated.stderr}`);

  // The workflow bundle, prebuilt once with the tracing interceptors (as a production worker gets it).
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { tsImport } = await import('tsx/esm/api');
  const telemetry = await tsImport(pathToFileURL(join(root, 'src/telemetry/worker.ts')).href, import.meta.url);
  const workflowInterceptorModules = telemetry.workflowInterceptorModules ?? telemetry.default?.workflowInterceptorModules;
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(root, 'src/workflows/index.ts'),
    // --no-workflow-tracing (diagnostic): a bundle without the OpenTelemetry workflow interceptors, to price them.
    workflowInterceptorModules: opt['no-workflow-tracing'] ? [] : workflowInterceptorModules,
    ...(opt.preload ? { preloadModules: opt.preload.split(',') } : {}),
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop },
  });
  const bundlePath = join(stack.work, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);

  // Seed: accounts with opening ledger entries (as openAccount does), a product over the approval threshold.
  const mysql = await import('mysql2/promise');
  const sql = await mysql.createConnection({ uri: stack.databaseUrl, multipleStatements: false });
  const rows = Array.from({ length: S.accounts }, (_, i) => [`${PREFIX}${i}`, 'bench', 'USD', INITIAL, 0]);
  await sql.query('INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES ?', [
    rows.map((r) => [...r, new Date(), new Date()]),
  ]);
  await sql.query('INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES ?', [
    rows.map((r) => [r[0], `account-${r[0]}`, 'open', INITIAL, 'opening', new Date()]),
  ]);
  // Accounts for the rejection paths (checked in both modes, see pathChecks): one short of funds, one in EUR.
  await sql.query(
    `INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES ('path-poor', 'bench', 'USD', 10, 0, NOW(3), NOW(3)), ('path-eur', 'bench', 'EUR', 0, 0, NOW(3), NOW(3))`,
  );
  await sql.query(`INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES ('path-poor', 'account-path-poor', 'open', 10, 'opening', NOW(3))`);
  await sql.query(
    `INSERT INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at) VALUES ('bench-big', 'Bench (needs approval)', 1500000, 'USD', 1000000, 0, NOW(3), NOW(3))`,
  );

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
  const workerEnv = { ...baseEnv, WORKFLOW_BUNDLE_PATH: bundlePath, ...(opt['mem-probe'] ? { MEM_PROBE_DIR: memProbeDir } : {}), ...kv(opt['worker-env']) };
  const workerNodeArgs = opt['worker-node-args'].split(' ').filter(Boolean);
  const worker = start('worker', process.execPath, [...workerNodeArgs, ...prof, ...probe, ...entry('worker')], { cwd: root, env: workerEnv, logFile: join(stack.logDir, 'worker.log') });

  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection, namespace: 'default' });
  await waitFor(
    'worker polling',
    async () => {
      const r = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: 'sagaflow', kind: 1 }, taskQueueType: 1 });
      return r.pollers.length > 0;
    },
    { entry: worker, timeoutMs: 90_000 },
  );

  const apiPort = await freePort();
  const base = `http://127.0.0.1:${apiPort}`;
  const apiEnvBase = {
    ...baseEnv,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    API_KEYS: API_KEY,
    RATE_LIMIT_PER_SECOND: '1000000000',
    RATE_LIMIT_BURST: '1000000000',
    ...kv(opt['api-env']),
  };
  let api;
  let apiMode;
  async function startApi(local) {
    if (api) await stop(api);
    api = start('api', process.execPath, [...prof, ...entry('api/server')], {
      cwd: root,
      env: { ...apiEnvBase, FLOW_LOCAL_ACTIVITIES: local ? 'true' : 'false' },
      logFile: join(stack.logDir, 'api.log'),
    });
    await waitFor('API /readyz', async () => (await fetch(`${base}/readyz`)).ok, { entry: api, timeoutMs: 90_000 });
    apiMode = local ? 'local' : 'remote';
    // Warm the API's pool, its route and the Temporal connection.
    await Promise.all(Array.from({ length: 20 }, () => http.post('/v1/transfers', transferBody(), { prefer: 'wait=10' })));
  }
  const http = httpClient(base, { headers: { authorization: `Bearer ${API_KEY}` } });
  log.info(`bench: stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (logs ${stack.logDir})`);

  const groups = () => ({
    api: api?.child.pid,
    worker: worker.child.pid,
    mariadb: stack.mariadb?.entry.child.pid,
    temporal: stack.temporal.entry.child.pid,
  });
  const scenarios = [];
  const expected = { transfers: 0, httpCompleted: 0 };

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
    const machineCpu = cpuMachine && Object.fromEntries(Object.entries(cpuMachine).map(([k, v]) => [k, round(v)]));
    const cpu = appCpu ?? (usage.api?.cpu_s ?? 0) + (usage.worker?.cpu_s ?? 0);
    const rss = appRss ?? (usage.api?.rss_mb ?? 0) + (usage.worker?.rss_mb ?? 0);
    const s = {
      name,
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
    log.info(`bench: [${((Date.now() - benchStart) / 1000).toFixed(0)} s] ${name}: ${s.tps} tps, p50 ${s.p50_ms} ms, p95 ${s.p95_ms} ms, p99 ${s.p99_ms} ms, cpu ${s.cpu_s} s, rss ${s.rss_mb} MB ${JSON.stringify(extra)}`);
    return s;
  }

  async function directDb(name, args) {
    let m;
    let usage;
    let meta;
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
    meta = { deadlock_retries: res.deadlockRetries, errors: res.errors, ...(res.firstError ? { first_error: res.firstError } : {}) };
    expected.transfers += 0; // direct transfers write rows too; counted from the database in the audit
    return record(name, {
      tps: res.ok / res.windowS,
      lat: res,
      usage,
      appCpu: usage.direct.cpu_s,
      appRss: usage.direct.rss_mb,
      extra: { concurrency: args.concurrency, ...(args.rate ? { rate: args.rate, late: res.late } : {}), ...meta },
    });
  }

  let outcomes = {};
  const completedOp = (prefer) => async () => {
    const r = await http.post('/v1/transfers', transferBody(), { prefer, 'idempotency-key': randomUUID() });
    const k = `${r.status} ${r.body?.data?.status ?? r.body?.code ?? ''}`.trim();
    outcomes[k] = (outcomes[k] ?? 0) + 1;
    if (r.status === 200 && r.body?.data?.status === 'COMPLETED') {
      expected.httpCompleted++;
      return true;
    }
    if (r.status >= 400) throw new Error(`POST /v1/transfers ${r.status}: ${r.text.slice(0, 300)}`);
    return false;
  };

  async function saga(name) {
    outcomes = {};
    const { r, usage } = await measured(async (hooks) => {
      const cancel = windowHooks(hooks, S.warmupMs, S.durationMs);
      const res = await closedLoop({ concurrency: S.concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, op: completedOp('wait=30') });
      cancel();
      return res;
    });
    if (r.firstError) log.warn(`${name}: ${r.firstError.message}`);
    return record(name, {
      tps: r.ok / r.windowS,
      lat: summarize(r.latencies),
      usage,
      extra: { mode: apiMode, concurrency: S.concurrency, errors: r.errors, outcomes, measure: 'flows COMPLETED per second (POST with Prefer: wait=30 answered 200 COMPLETED), closed loop' },
    });
  }

  async function sync(name, rate) {
    outcomes = {};
    const { r, usage } = await measured(async (hooks) => {
      const cancel = windowHooks(hooks, S.warmupMs, S.pacedMs);
      const res = await openLoop({ rate, warmupMs: S.warmupMs, durationMs: S.pacedMs, op: completedOp('wait=10') });
      cancel();
      return res;
    });
    if (r.firstError) log.warn(`${name}: ${r.firstError.message}`);
    return record(name, {
      tps: r.ok / r.windowS,
      lat: summarize(r.latencies),
      usage,
      extra: { mode: apiMode, rate, errors: r.errors, outcomes, late: r.late, dropped: r.dropped, measure: 'open loop; latency from the scheduled send time to 200 COMPLETED' },
    });
  }

  // ---- scenarios -------------------------------------------------------------------------------------------------
  const tpsOf = (n) => scenarios.find((s) => s.name === n)?.tps;
  if (wanted.has('direct-db')) {
    await directDb('direct-db', { concurrency: S.concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, accounts: S.accounts, prefix: PREFIX });
  }
  if (wanted.has('saga-remote') || wanted.has('sync-remote')) {
    await startApi(false);
    if (wanted.has('saga-remote')) await saga('saga-remote');
    if (wanted.has('sync-remote')) await sync('sync-remote', Math.max(1, Math.round((tpsOf('saga-remote') ?? 50) / 2)));
  }
  if (wanted.has('saga-local') || wanted.has('sync-local')) {
    await startApi(true);
    if (wanted.has('saga-local')) await saga('saga-local');
    if (wanted.has('sync-local')) await sync('sync-local', Math.max(1, Math.round((tpsOf('saga-local') ?? 50) / 2)));
  }
  const syncRate = scenarios.find((s) => s.name.startsWith('sync-'))?.rate;
  if (wanted.has('direct-db-paced')) {
    const rate = syncRate ?? Math.max(1, Math.round((tpsOf('saga-remote') ?? 100) / 2));
    await directDb('direct-db-paced', { rate, concurrency: 0, warmupMs: S.warmupMs, durationMs: S.pacedMs, accounts: S.accounts, prefix: PREFIX });
  }

  const config = await tsImport(pathToFileURL(join(root, 'src/config.ts')).href, import.meta.url);
  const defaultLocal = (config.loadConfig ?? config.default.loadConfig)({}).flows.localActivities === true;

  if (wanted.has('start')) {
    if (!api) await startApi(defaultLocal);
    // Sequential, interleaved (POST, POST with Idempotency-Key, bare start), so all three see the same background
    // load: the flows they start run meanwhile. Bare = client.workflow.start of the same workflow with the same input,
    // no API, no database, no search attributes or summary.
    const lat = { post: [], postIdem: [], bare: [], full: [], floor: [] };
    const { defineSearchAttributeKey } = await import('@temporalio/common');
    const sa = (n) => defineSearchAttributeKey(n, 'KEYWORD');
    const taskQueue = 'sagaflow';
    const { r: _, usage } = await measured(async (hooks) => {
      hooks.start();
      for (let i = 0; i < S.startSamples; i++) {
        // Paced (~10 starts/s in all, well below what the worker finishes per second) so the flows started here do not
        // pile up into a backlog that would saturate the CPU and measure contention instead of the start path.
        await sleep(S.startGapMs);
        let s = performance.now();
        const r1 = await http.post('/v1/transfers', transferBody());
        if (r1.status !== 202) throw new Error(`POST without wait answered ${r1.status}: ${r1.text.slice(0, 200)}`);
        lat.post.push(performance.now() - s);
        await sleep(S.startGapMs);
        s = performance.now();
        const r2 = await http.post('/v1/transfers', transferBody(), { 'idempotency-key': randomUUID() });
        if (r2.status !== 202) throw new Error(`POST without wait answered ${r2.status}`);
        lat.postIdem.push(performance.now() - s);
        await sleep(S.startGapMs);
        const id = randomUUID();
        const b = transferBody();
        s = performance.now();
        await client.workflow.start('transferMoney', {
          taskQueue,
          workflowId: `transfer-${id}`,
          args: [{ id, ...b, memo: null, timeouts: TIMEOUTS, ...(apiMode === 'local' ? { localActivities: true } : {}) }],
        });
        lat.bare.push(performance.now() - s);
        // Diagnostics: the start with the API's options (search attributes, summary), and the HTTP floor.
        await sleep(S.startGapMs);
        const id2 = randomUUID();
        const b2 = transferBody();
        s = performance.now();
        await client.workflow.start('transferMoney', {
          taskQueue,
          workflowId: `transfer-${id2}`,
          args: [{ id: id2, ...b2, memo: null, timeouts: TIMEOUTS, ...(apiMode === 'local' ? { localActivities: true } : {}) }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: sa('TransferId'), value: id2 },
            { key: sa('CustomerId'), value: b2.fromAccountId },
            { key: sa('FlowStatus'), value: 'RUNNING' },
          ],
          staticSummary: `Transfer ${b2.amount} ${b2.fromAccountId} → ${b2.toAccountId}`,
        });
        lat.full.push(performance.now() - s);
        s = performance.now();
        const h = await http.get('/healthz');
        if (h.status !== 200) throw new Error(`GET /healthz answered ${h.status}`);
        lat.floor.push(performance.now() - s);
        expected.transfers += 4;
      }
      hooks.end();
    });
    const n = S.startSamples * 4;
    record('start-post', { tps: S.startSamples / (lat.post.reduce((a, b) => a + b, 0) / 1000), lat: summarize(lat.post), usage, extra: { mode: apiMode, measure: 'POST /v1/transfers, no Prefer, no Idempotency-Key → 202; one at a time, paced (tps = 1000 / mean ms)', share_note: `cpu/rss cover all ${n} starts and the flows they started` } });
    record('start-post-idem', { tps: S.startSamples / (lat.postIdem.reduce((a, b) => a + b, 0) / 1000), lat: summarize(lat.postIdem), usage, extra: { mode: apiMode, measure: 'POST /v1/transfers with a new Idempotency-Key → 202; one at a time, paced' } });
    record('start-client-api-options', { tps: S.startSamples / (lat.full.reduce((a, b) => a + b, 0) / 1000), lat: summarize(lat.full), usage, extra: { mode: apiMode, measure: 'client.workflow.start with the options the API sets (search attributes, summary, id policies); one at a time, paced' } });
    record('http-floor', { tps: S.startSamples / (lat.floor.reduce((a, b) => a + b, 0) / 1000), lat: summarize(lat.floor), usage, extra: { measure: 'GET /healthz: the HTTP + middleware floor of the API' } });
    record('start-bare', { tps: S.startSamples / (lat.bare.reduce((a, b) => a + b, 0) / 1000), lat: summarize(lat.bare), usage, extra: { mode: apiMode, measure: 'client.workflow.start from the bench process; one at a time, paced' } });
  }

  let workerInflight;
  if (wanted.has('inflight')) {
    if (!api) await startApi(defaultLocal);
    await settle(sql, 60_000);
    const before = groupSnapshot(worker.child.pid);
    const ids = [];
    for (let i = 0; i < S.inflight; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, S.inflight - i) }, (_, j) =>
          http.post('/v1/orders', { customerId: `cust-${i + j}`, paymentAccountId: `${PREFIX}${(i + j) % S.accounts}`, items: [{ sku: 'bench-big', quantity: 1 }] }),
        ),
      );
      for (const r of batch) {
        if (r.status !== 202) throw new Error(`POST /v1/orders answered ${r.status}: ${r.text.slice(0, 200)}`);
        ids.push(r.body.data.id);
      }
    }
    await waitFor(
      `${S.inflight} orders AWAITING_APPROVAL`,
      async () => {
        const [[row]] = await sql.query(`SELECT COUNT(*) AS n FROM orders WHERE status = 'AWAITING_APPROVAL'`);
        return Number(row.n) >= S.inflight;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
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
    const [[open]] = await sql.query(`SELECT COUNT(*) AS n FROM orders WHERE status = 'AWAITING_APPROVAL'`);
    workerInflight = {
      flows_in_flight: Number(open.n),
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
      how: `${S.inflight} checkout orders over the approval threshold held in AWAITING_APPROVAL (cached in the worker), RSS of the worker's node process after all earlier scenarios`,
    };
    log.info(`bench: worker RSS with ${open.n} flows in flight: ${workerInflight.worker_rss_mb} MB (before ${workerInflight.worker_rss_before_mb} MB)`);
  }

  // ---- correctness of the rejection paths, with regular and with local activities -----------------------------------
  const paths = await pathChecks(client);

  // ---- audit -----------------------------------------------------------------------------------------------------
  const audit = await auditDb(sql, expected, paths);
  await sql.end();
  await connection.close();
  http.close();

  // ---- results ---------------------------------------------------------------------------------------------------
  const mode = defaultLocal ? 'local' : 'remote';
  const get = (n) => scenarios.find((s) => s.name === n);
  const ratio = (a, b) => (a != null && b ? round(a / b, 3) : null);
  const direct = get('direct-db');
  const ratios = {
    default_mode: mode,
    transfer_vs_direct: ratio(get(`saga-${mode}`)?.tps, direct?.tps),
    sync_p50_vs_direct_p50: ratio(get(`sync-${mode}`)?.p50_ms, direct?.p50_ms),
    post_vs_client_start: ratio(get('start-post')?.p50_ms, get('start-bare')?.p50_ms),
    // Stricter companions (same definitions with the other mode, or against the paced direct-db latency).
    transfer_vs_direct_remote: ratio(get('saga-remote')?.tps, direct?.tps),
    transfer_vs_direct_local: ratio(get('saga-local')?.tps, direct?.tps),
    sync_p50_vs_direct_p50_remote: ratio(get('sync-remote')?.p50_ms, direct?.p50_ms),
    sync_p50_vs_direct_p50_local: ratio(get('sync-local')?.p50_ms, direct?.p50_ms),
    sync_p50_vs_direct_paced_p50: ratio(get(`sync-${mode}`)?.p50_ms, get('direct-db-paced')?.p50_ms),
    post_idem_vs_client_start: ratio(get('start-post-idem')?.p50_ms, get('start-bare')?.p50_ms),
  };
  const targets = {
    transfer_vs_direct: { target: '>= 0.5', met: ratios.transfer_vs_direct != null ? ratios.transfer_vs_direct >= 0.5 : null },
    sync_p50_vs_direct_p50: { target: '<= 5', met: ratios.sync_p50_vs_direct_p50 != null ? ratios.sync_p50_vs_direct_p50 <= 5 : null },
    post_vs_client_start: { target: '<= 1.2', met: ratios.post_vs_client_start != null ? ratios.post_vs_client_start <= 1.2 : null },
    worker_rss_200_inflight_mb: { target: '<= 300', met: workerInflight ? workerInflight.worker_rss_mb <= 300 : null },
  };
  const result = {
    machine: mach,
    startedAt,
    finishedAt: new Date().toISOString(),
    label: opt.label || undefined,
    settings: { quick, runtime: opt.runtime, workflow_tracing: !opt['no-workflow-tracing'], worker_node_args: opt['worker-node-args'] || undefined, ...S, dynamic_config: { ...DYNAMIC_CONFIG }, worker_env: kv(opt['worker-env']), api_env: kv(opt['api-env']) },
    scenarios,
    ratios,
    targets,
    worker_rss_200_inflight_mb: workerInflight?.worker_rss_mb ?? null,
    inflight: workerInflight,
    audit,
  };
  const outDir = join(root, 'bench/results');
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  const stamp = startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, 'runs', `${stamp}${opt.label ? `-${opt.label.replace(/[^\w.-]+/g, '_')}` : ''}${quick ? '-quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), markdown(result));
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
 * Every path of the transfer saga in both modes, started straight on Temporal (the API refuses these up front):
 * insufficient funds (the debit is rejected: COMPENSATED, nothing moved), a credit rejected after the debit (EUR
 * destination: the debit is refunded: COMPENSATED), and a plain transfer (COMPLETED).
 */
async function pathChecks(client) {
  const cases = [
    { name: 'insufficient-funds', from: 'path-poor', to: `${PREFIX}1`, status: 'COMPENSATED', code: 'InsufficientFunds' },
    { name: 'credit-rejected-refund', from: `${PREFIX}0`, to: 'path-eur', status: 'COMPENSATED', code: 'CurrencyMismatch' },
    { name: 'completed', from: `${PREFIX}2`, to: `${PREFIX}3`, status: 'COMPLETED' },
  ];
  const results = [];
  for (const local of [false, true]) {
    for (const c of cases) {
      const id = `path-${c.name}-${local ? 'local' : 'remote'}-${randomUUID().slice(0, 8)}`;
      const handle = await client.workflow.start('transferMoney', {
        taskQueue: 'sagaflow',
        workflowId: `transfer-${id}`,
        args: [{ id, fromAccountId: c.from, toAccountId: c.to, amount: 100, currency: 'USD', memo: null, timeouts: TIMEOUTS, ...(local ? { localActivities: true } : {}) }],
      });
      const r = await handle.result();
      const ok = r.status === c.status && (!c.code || r.reason?.code === c.code);
      results.push({ id, mode: local ? 'local' : 'remote', path: c.name, status: r.status, reason: r.reason?.code ?? null, ok });
    }
  }
  const bad = results.filter((r) => !r.ok);
  (bad.length ? log.error : log.info)(`bench: saga paths in both modes: ${bad.length ? `FAILED ${JSON.stringify(bad)}` : `all ${results.length} as expected`}`);
  return results;
}

/** Waits until no transfer is RUNNING (every flow started so far has finished). */
async function settle(sql, timeoutMs) {
  await waitFor(
    'every transfer finished',
    async () => {
      const [[row]] = await sql.query(`SELECT COUNT(*) AS n FROM transfers WHERE status = 'RUNNING'`);
      return Number(row.n) === 0;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** Money is conserved, every account's ledger sums to its balance, every transfer COMPLETED with exactly its rows. */
async function auditDb(sql, expected, paths = []) {
  const problems = [];
  try {
    await settle(sql, 120_000);
  } catch (err) {
    problems.push(err.message);
  }
  const one = async (q) => (await sql.query(q))[0][0];
  const money = await one(`SELECT COUNT(*) AS n, SUM(balance + frozen) AS total FROM accounts WHERE id LIKE '${PREFIX}%'`);
  if (Number(money.total) !== Number(money.n) * INITIAL) problems.push(`money not conserved: ${money.total} != ${Number(money.n) * INITIAL}`);
  const ledger = await one(
    `SELECT COUNT(*) AS n FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount) AS s FROM ledger_entries GROUP BY account_id) l ON l.account_id = a.id WHERE a.balance <> COALESCE(l.s, 0)`,
  );
  if (Number(ledger.n) !== 0) problems.push(`${ledger.n} accounts whose ledger does not sum to the balance`);
  const [statuses] = await sql.query(`SELECT status, COUNT(*) AS n FROM transfers WHERE id NOT LIKE 'path-%' GROUP BY status`);
  const byStatus = Object.fromEntries(statuses.map((r) => [r.status, Number(r.n)]));
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  if (total !== (byStatus.COMPLETED ?? 0)) problems.push(`transfers not all COMPLETED: ${JSON.stringify(byStatus)}`);
  const barriers = await one(`SELECT COUNT(*) AS n FROM barriers WHERE flow_id LIKE 'transfer-%' AND flow_id NOT LIKE 'transfer-path-%'`);
  if (Number(barriers.n) !== 2 * total) problems.push(`${barriers.n} transfer barrier rows for ${total} transfers (expected 2 each)`);
  const entries = await one(`SELECT COUNT(*) AS n FROM ledger_entries WHERE flow_id LIKE 'transfer-%' AND flow_id NOT LIKE 'transfer-path-%'`);
  if (Number(entries.n) !== 2 * total) problems.push(`${entries.n} transfer ledger entries for ${total} transfers (expected 2 each)`);
  // The rejection paths: their flows ended as expected, and the refunds put the money back.
  for (const p of paths) if (!p.ok) problems.push(`path ${p.path} (${p.mode}) ended ${p.status}/${p.reason}`);
  const [pathRows] = await sql.query(`SELECT id, status, reason_code FROM transfers WHERE id LIKE 'path-%'`);
  for (const p of paths) {
    const row = pathRows.find((r) => r.id === p.id);
    const want = p.path === 'completed' ? 'COMPLETED' : 'COMPENSATED';
    if (p.path !== 'insufficient-funds' || row) if (row?.status !== want) problems.push(`path ${p.id}: row ${row?.status ?? 'missing'}, expected ${want}`);
  }
  const poor = await one(`SELECT balance, frozen FROM accounts WHERE id = 'path-poor'`);
  const eur = await one(`SELECT balance, frozen FROM accounts WHERE id = 'path-eur'`);
  if (Number(poor.balance) !== 10 || Number(eur.balance) !== 0) problems.push(`rejected transfers moved money: path-poor ${poor.balance}, path-eur ${eur.balance}`);
  if (expected.httpCompleted > (byStatus.COMPLETED ?? 0)) problems.push(`API reported ${expected.httpCompleted} COMPLETED, the database has ${byStatus.COMPLETED}`);
  const ok = problems.length === 0;
  (ok ? log.info : log.error)(`bench: audit ${ok ? 'passed' : 'FAILED'}: ${total} transfers ${JSON.stringify(byStatus)}, ${barriers.n} barrier rows${ok ? '' : `; ${problems.join('; ')}`}`);
  return { ok, transfers: byStatus, barrier_rows: Number(barriers.n), http_completed: expected.httpCompleted, paths, problems };
}

function markdown(r) {
  const m = r.machine;
  const lines = [
    `# sagaflow bench${r.settings.quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${m.cores} cores, ${m.ram_gb} GiB RAM, ${m.cpu_model}, Node ${m.node}, ${m.os}. Load average at start ${m.loadavg_at_start.join(' ')}` +
      (m.concurrent_load.length ? `; **other load running**: ${m.concurrent_load.length} process(es) (${m.concurrent_load.map((l) => l.split(/\s+/).slice(1, 4).join(' ')).join('; ')})` : '; machine otherwise quiet') +
      '.',
    '',
    `Started ${r.startedAt}; ${r.settings.durationMs / 1000} s windows (${r.settings.pacedMs / 1000} s for the fixed-rate ones) after ${r.settings.warmupMs / 1000} s warm-up, concurrency ${r.settings.concurrency}, ${r.settings.accounts} accounts, runtime ${r.settings.runtime}. MariaDB, the Temporal dev server, the API, the worker and the load generator share the same cores.`,
    '',
    '| scenario | tps | p50 ms | p95 ms | p99 ms | app CPU s | app RSS MB | API CPU s | worker CPU s | MariaDB CPU s | Temporal CPU s | bench CPU s | idle / other / steal CPU s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const c = (s, k) => (s.procs?.[k]?.cpu_s ?? '');
  for (const s of r.scenarios) {
    lines.push(
      `| ${s.name}${s.rate ? ` (@${s.rate}/s)` : ''} | ${s.tps} | ${s.p50_ms} | ${s.p95_ms} | ${s.p99_ms} | ${s.cpu_s} | ${s.rss_mb} | ${c(s, 'api')} | ${c(s, 'worker')} | ${c(s, 'mariadb')} | ${c(s, 'temporal')} | ${c(s, 'bench')} | ${s.machine_cpu ? `${s.machine_cpu.idle_s} / ${s.machine_cpu.other_s} / ${s.machine_cpu.steal_s}` : ''} |`,
    );
  }
  lines.push(
    '',
    'tps: completed transfers per second in the window (saga/sync: POST answered 200 COMPLETED); for start-*/http-floor, 1000 / mean latency of one call at a time. ' +
      'CPU s: CPU seconds in the window (start-*: over the whole interleaved start run, flows included); idle / other / steal: machine-wide idle CPU, CPU used by processes outside this bench, and CPU taken by the hypervisor in the same window. app CPU/RSS: the direct-db process for direct-db*, API + worker otherwise (RSS: peak of each node process in the window, summed).',
    '',
  );
  if (r.inflight) {
    const i = r.inflight;
    lines.push(
      `Worker with ${i.flows_in_flight} flows in flight (orders held in AWAITING_APPROVAL): ${i.worker_rss_mb} MB RSS once settled (peak ${i.worker_rss_peak_mb} MB right after they parked; ${i.worker_rss_before_mb} MB before), after all the scenarios above.`,
      '',
    );
  }
  lines.push('| ratio | value | target | met |', '|---|---:|---|---|');
  for (const [k, t] of Object.entries(r.targets)) {
    const v = k === 'worker_rss_200_inflight_mb' ? r.worker_rss_200_inflight_mb : r.ratios[k];
    lines.push(`| ${k}${k === 'worker_rss_200_inflight_mb' ? '' : ` (${r.ratios.default_mode} mode)`} | ${v ?? 'n/a'} | ${t.target} | ${t.met == null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
  }
  for (const [k, v] of Object.entries(r.ratios)) if (!(k in r.targets) && k !== 'default_mode') lines.push(`| ${k} | ${v ?? 'n/a'} | | |`);
  const paths = r.audit.paths ?? [];
  lines.push(
    '',
    `Audit: ${r.audit.ok ? 'passed' : '**FAILED**'} — transfers ${JSON.stringify(r.audit.transfers)}, ${r.audit.barrier_rows} barrier rows (2 per transfer), money conserved, every ledger sums to its balance; ` +
      `rejection paths in both modes: ${paths.filter((p) => p.ok).length}/${paths.length} as expected${r.audit.problems.length ? `; ${r.audit.problems.join('; ')}` : ''}.`,
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
