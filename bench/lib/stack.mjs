// The bench's stack, in one process tree: an ephemeral stack (the MariaDB servers A and B + a Temporal dev server on
// free ports, persisted to a SQLite file in the run's directory unless --temporal-store memory), migrations, the project's own view of it (database URLs by owner, task
// queues, shard rule, flow timeouts), a prebuilt workflow bundle, the seeded accounts and products, one worker process
// serving every unit (the flows queue and each service's/shard's queue) and two API processes (TRANSFER_MODE=single
// and batched). Returns what the scenarios, the audit and the report use (see bench/scenarios/index.mjs).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log } from '../../scripts/lib/log.mjs';
import { freePort, onCleanup, start, waitFor } from '../../scripts/lib/procs.mjs';
import { loadSearchAttributes, workerProcessEnv } from '../../scripts/lib/project.mjs';
import { provision } from '../../scripts/lib/stack.mjs';
import { DYNAMIC_CONFIG, FILE_DYNAMIC_CONFIG } from '../../scripts/lib/temporal-server.mjs';
import { API_KEY, PREFIX } from './fixtures.mjs';
import { httpClient } from './load.mjs';
import { benchAccounts, pairPicker } from './pairs.mjs';
import { seedDatabases } from './seed.mjs';


export const kv = (list) => Object.fromEntries(list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));

/** A TypeScript module of the project, loaded through tsx (CommonJS sources: named exports or under default). */
async function loadTs(root, file) {
  const { tsImport } = await import('tsx/esm/api');
  const mod = await tsImport(pathToFileURL(join(root, file)).href, import.meta.url);
  return { ...(mod.default ?? {}), ...mod };
}

/** The ephemeral stack (logs kept under bench/results/logs/ with --keep-logs) and the environment every child gets. */
async function provisionStack(root, opt, startedAt) {
  // The project's dynamic config as `npm run dev` gets it (a dev server's single task-queue partition included); --dyncfg
  // changes it for experiments.
  for (const [k, v] of Object.entries(kv(opt.dyncfg))) {
    DYNAMIC_CONFIG[k] = JSON.parse(v);
    if (k in FILE_DYNAMIC_CONFIG) FILE_DYNAMIC_CONFIG[k] = JSON.parse(v); // what --dyncfg says wins
  }
  const stack = await provision({ mode: 'test', root, searchAttributes: await loadSearchAttributes(root), temporalStore: opt['temporal-store'], cluster: opt.cluster });
  if (opt['keep-logs']) {
    onCleanup(() => {
      const dest = join(root, 'bench/results/logs', startedAt.replace(/[:.]/g, '-'));
      mkdirSync(dest, { recursive: true });
      cpSync(stack.logDir, dest, { recursive: true });
      log.info(`bench: logs kept in ${dest}`);
    });
  }
  // Every child gets every database's URL (stack.databaseEnv); DATABASE_URL is never the one they use.
  const baseEnv = { ...stack.databaseEnv, ...stack.brokerEnv, ...stack.payloadEnv, DTM_BRANCH_URL_ALLOW: 'http://127.0.0.1:*', TEMPORAL_ADDRESS: stack.temporal.address, NODE_ENV: 'production', LOG_LEVEL: 'warn', OTEL_TRACES_EXPORTER: 'none' };
  if (opt['workflow-tracing']) {
    // Tracing on, exported over OTLP/HTTP to a sink here that accepts and drops every batch.
    const { createServer } = await import('node:http');
    const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
    const sinkPort = await freePort();
    await new Promise((r) => sink.listen(sinkPort, '127.0.0.1', r));
    onCleanup(() => sink.close());
    Object.assign(baseEnv, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${sinkPort}/v1/traces` });
  }
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const migrated = spawnSync(tsx, ['src/migrate.ts', 'up'], { cwd: root, env: { ...process.env, ...baseEnv }, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`migrations failed: ${migrated.stderr}`);
  return { stack, baseEnv };
}

/** The project's own view of this stack: database URLs by owner, task-queue prefix, units, shard rule, flow policy. */
async function projectView(root, baseEnv, S) {
  const { loadConfig } = await loadTs(root, 'src/config/index.ts');
  const config = loadConfig({ ...process.env, ...baseEnv });
  const { serviceStores } = await loadTs(root, 'src/activities/index.ts');
  const { shardOf } = await loadTs(root, 'src/activities/ledger/contract.ts');
  const SHARDS = config.db.urls.ledger.length;
  const prefix = config.temporal.taskQueuePrefix;
  const accounts = benchAccounts({ prefix: PREFIX, count: S.accounts, shards: SHARDS, shardOf });
  const pair = pairPicker(accounts, S.cross);
  return {
    config,
    shardOf,
    SHARDS,
    prefix,
    flowsQueue: `${prefix}-flows`,
    units: serviceStores(config).map((s) => s.unit),
    topology: { queuePrefix: prefix, ledgerShards: SHARDS },
    TIMEOUTS: { stepStartToCloseMs: config.flows.stepStartToCloseMs, stepScheduleToCloseMs: config.flows.stepScheduleToCloseMs, compensationStuckAfterMs: config.flows.compensationStuckAfterMs },
    accounts,
    transferBody: () => {
      const [fromAccountId, toAccountId] = pair();
      return { fromAccountId, toAccountId, amount: 1 + Math.floor(Math.random() * 1000), currency: 'USD' };
    },
    /** A fresh id that lives on `shard` (as src/activities/ledger/reads.ts idOnShard: a UUID redrawn until it hashes there). */
    idOnShard: (shard, idPrefix = '') => {
      for (;;) {
        const id = `${idPrefix}${randomUUID()}`;
        if (shardOf(id, SHARDS) === shard) return id;
      }
    },
  };
}

/**
 * The workflow bundle, prebuilt once from the workflows registry (as scripts/bundle-workflows.mjs builds it): without
 * the tracing interceptors, as a worker with no trace exporter runs; --workflow-tracing: the traced one.
 */
async function buildBundle(root, opt, stack) {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { workflowModules } = await loadTs(root, 'src/workflows/index.ts');
  const { writeWorkflowEntry } = await loadTs(root, 'src/platform/temporal/bundle.ts');
  const telemetry = await loadTs(root, 'src/platform/telemetry/worker.ts');
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: writeWorkflowEntry(workflowModules),
    workflowInterceptorModules: opt['workflow-tracing'] ? telemetry.workflowInterceptorModules : [],
    ...(opt.preload ? { preloadModules: opt.preload.split(',') } : {}),
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop },
  });
  const bundlePath = join(stack.work, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  return bundlePath;
}

/**
 * How a service process starts: --runtime js: the sources transpiled once (esbuild, as `npm run build` would with
 * tsc) and run by plain node, like the Docker image; tsx (the default, as `npm run dev`) compiles on load and keeps a
 * loader thread.
 */
async function entryFor(root, opt, stack) {
  if (opt.runtime === 'tsx') return (f) => ['--import', 'tsx', `src/${f}.ts`];
  if (opt.runtime !== 'js') throw new Error('--runtime is tsx or js');
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
  return (f) => [join(outdir, `${f}.js`)];
}

/** One worker process serving every unit (WORKER_SERVE empty), up once every queue has a poller. */
async function startWorker({ root, opt, stack, baseEnv, view, bundlePath, entry, prof, memProbeDir }) {
  const probe = opt['mem-probe'] ? ['--expose-gc', '--require', join(root, 'bench/lib/mem-probe.cjs')] : [];
  const workerEnv = { ...baseEnv, ...workerProcessEnv(baseEnv), WORKER_SERVE: '', WORKFLOW_BUNDLE_PATH: bundlePath, ...(opt['mem-probe'] ? { MEM_PROBE_DIR: memProbeDir } : {}), ...kv(opt['worker-env']) };
  const workerNodeArgs = opt['worker-node-args'].split(' ').filter(Boolean);
  const worker = start('worker', process.execPath, [...workerNodeArgs, ...prof, ...probe, ...entry('worker')], { cwd: root, env: workerEnv, logFile: join(stack.logDir, 'worker.log') });
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: stack.temporal.address });
  const namespace = view.config.temporal.namespace;
  // The stack's payload keys, as the API and workers use them: results come back encrypted.
  const { dataConverterFor } = await loadTs(root, 'src/platform/codec/data-converter.ts');
  const client = new Client({ connection, namespace, dataConverter: dataConverterFor(view.config.codec.keys) });
  const queues = [
    { name: view.flowsQueue, type: 1 }, // workflow tasks
    ...view.units.map((u) => ({ name: `${view.prefix}-${u}`, type: 2 })), // activity tasks
  ];
  const polled = async () => {
    for (const q of queues) {
      const r = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: q.name, kind: 1 }, taskQueueType: q.type });
      if (r.pollers.length === 0) return false;
    }
    return true;
  };
  await waitFor(`worker polling ${queues.map((q) => q.name).join(', ')}`, polled, { entry: worker, timeoutMs: 90_000 });
  return { worker, connection, client };
}

/**
 * Two API processes: `api` with a workflow per transfer (TRANSFER_MODE=single), `api_batched` with batched mode.
 * Checkout, start and inflight go to `api`; the idle one costs next to nothing. Warmed (pools, routes, Temporal).
 */
async function startApis({ root, opt, stack, baseEnv, entry, prof, transferBody }) {
  const apiPort = await freePort();
  const base = `http://127.0.0.1:${apiPort}`;
  const apiEnv = { ...baseEnv, API_HOST: '127.0.0.1', API_PORT: String(apiPort), API_KEYS: API_KEY, RATE_LIMIT_PER_SECOND: '1000000000', RATE_LIMIT_BURST: '1000000000', ...kv(opt['api-env']) };
  const http = httpClient(base, { headers: { authorization: `Bearer ${API_KEY}` } });
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
  for (const h of [http, httpBatched]) await Promise.all(Array.from({ length: 20 }, () => h.post('/v1/transfers', transferBody(), { prefer: 'wait=10', 'idempotency-key': randomUUID() })));
  return { api, apiBatched, http, httpBatched };
}

/** Starts everything; the returned object is the base of the scenarios' context. */
export async function startBench({ root, opt, S, startedAt }) {
  const t0 = Date.now();
  const { stack, baseEnv } = await provisionStack(root, opt, startedAt);
  const view = await projectView(root, baseEnv, S);
  log.info(`bench: ${S.accounts} accounts over ${view.SHARDS} ledger shards (${view.accounts.byShard.map((l) => l.length).join(' / ')}), ${Math.round(S.cross * 100)} % of transfers cross shards; task queues ${view.flowsQueue}, ${view.units.map((u) => `${view.prefix}-${u}`).join(', ')}`);
  const bundlePath = await buildBundle(root, opt, stack);
  const dbs = await seedDatabases(view);
  const profDir = join(stack.work, 'profiles');
  const prof = opt['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const memProbeDir = join(stack.work, 'mem-probe');
  const entry = await entryFor(root, opt, stack);
  const procs = { root, opt, stack, baseEnv, entry, prof };
  const { worker, connection, client } = await startWorker({ ...procs, view, bundlePath, memProbeDir });
  const { api, apiBatched, http, httpBatched } = await startApis({ ...procs, transferBody: view.transferBody });
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
  return { ...view, ...dbs, stack, baseEnv, profDir, memProbeDir, worker, api, apiBatched, connection, client, http, httpBatched, mariadbs, groups };
}
