#!/usr/bin/env node
// `npm run dev`: from a fresh clone, installs what is missing, then starts the whole stack on 127.0.0.1:
// two MariaDB servers holding sagaflow's databases (data in .data/mariadb-a and .data/mariadb-b; or all databases on
// DATABASE_URL's server when it answers), the Temporal dev server persisted to .data/temporal.sqlite with its Web UI,
// migrations and demo data, one worker and the API. Everything it started is supervised: a process that dies (a
// database server, the broker, Temporal, the worker, the API) is started again with backoff and counted
// (.data/logs/supervisor.json, on the API's /metrics); only Ctrl-C stops the stack. Re-running reuses .data/
// (SAGAFLOW_DATA_DIR: elsewhere).
// `--cluster`: a real Temporal cluster instead of the dev server (two server nodes on PostgreSQL, its Web UI server;
// scripts/lib/temporal-cluster.mjs). `--ha` (implies --cluster): two API and two worker processes, HAProxy on the API
// port and on TEMPORAL_PORT in front of the API replicas and the Temporal frontends (scripts/lib/replicas.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from './lib/deps.mjs';
import { maskUrl } from './lib/layout.mjs';
import { log } from './lib/log.mjs';
import { cleanup, portInUse, start, stopOnSignals, supervise, waitFor, writeRestartCounts } from './lib/procs.mjs';
import { loadSearchAttributes, workerProcessEnv } from './lib/project.mjs';
import { provision, superviseServices } from './lib/stack.mjs';
import { ensureNodeRuntime } from './lib/node-runtime.mjs';
import { startReplicas } from './lib/replicas.mjs';

// Migrates every database and loads the demo data (run with tsx from the project root).
const MIGRATE_AND_SEED = ['src/migrate.ts', 'seed'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ha = process.argv.includes('--ha');
const cluster = ha || process.argv.includes('--cluster');
await ensureNodeRuntime(); // Node 24 LTS, whatever started this script
if (existsSync(join(root, '.env'))) process.loadEnvFile(join(root, '.env'));
stopOnSignals();

try {
  ensureDeps(root);
  const apiPort = Number(process.env.API_PORT ?? 3000);
  const apiHost = process.env.API_HOST ?? '127.0.0.1';
  if (await portInUse(apiPort, apiHost)) throw new Error(`port ${apiPort} (API_PORT) is busy; stop what uses it or set API_PORT`);
  const dtmPort = process.env.DTM_PORT ?? '36789'; // the DTM protocol on DTM's own port, for DTM clients
  if (await portInUse(Number(dtmPort), apiHost)) throw new Error(`port ${dtmPort} (DTM_PORT) is busy; stop what uses it or set DTM_PORT`);
  const started = Date.now();
  const stack = await provision({ mode: 'dev', root, searchAttributes: await loadSearchAttributes(root), cluster });
  const supervisorFile = join(stack.logDir, 'supervisor.json');
  writeRestartCounts(supervisorFile);
  superviseServices(stack);
  const env = {
    SUPERVISOR_STATE_FILE: supervisorFile,
    ...stack.databaseEnv,
    ...stack.brokerEnv,
    ...stack.payloadEnv,
    TEMPORAL_ADDRESS: stack.temporal.address,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    DTM_PORT: dtmPort,
  };
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const seeded = spawnSync(tsx, MIGRATE_AND_SEED, { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
  if (seeded.status !== 0) throw new Error('migrations failed');

  const base = `http://${apiHost}:${apiPort}`;
  const replicas = ha
    ? await startReplicas({ root, env, logDir: stack.logDir, apiHost, apiPort, temporalPort: Number(process.env.TEMPORAL_PORT ?? 7233), temporalServers: stack.temporal.addresses, dtmPort: Number(dtmPort) })
    : await startSingle({ root, env, logDir: stack.logDir, base });
  // One small demo transfer so the Temporal UI has a run to show (the idempotency key keeps re-runs from repeating it).
  await fetch(`${base}/v1/transfers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'dev-smoke-transfer', ...(process.env.API_KEYS ? { authorization: `Bearer ${process.env.API_KEYS.split(',')[0].trim().replace(/^[A-Za-z0-9_.-]{1,60}:/, '')}` } : {}) },
    body: JSON.stringify({ fromAccountId: 'demo-alice', toAccountId: 'demo-bob', amount: 100, currency: 'USD', memo: 'dev smoke transfer' }),
  }).catch(() => undefined);

  log.info(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // One line per server: where it is and which databases it holds (DATABASE_URL's server holds them all).
  const databases = stack.servers
    .map((s) => `    ${(s.external ? 'MariaDB' : `MariaDB ${s.name}`).padEnd(14)}${maskUrl(s.url)}   ${s.databases.join(', ')}`)
    .join('\n');
  console.log(`
  sagaflow is running
    API           ${base}
    API docs      ${base}/docs   (OpenAPI: ${base}/openapi.json, AsyncAPI: ${base}/asyncapi.json)
    DTM protocol  http://${apiHost}:${dtmPort}/api/dtmsvr   (DTM clients: this is their server URL)
    Temporal UI   ${stack.temporal.uiUrl}   (payloads decoded through ${base}/codec; with API_KEYS, sign in at ${base}/codec/session)
    Temporal gRPC ${ha ? replicas.temporalAddress : stack.temporal.address}   (${cluster && !ha ? `TEMPORAL_ADDRESS=${stack.temporal.address} ` : ''}npm run temporal -- workflow list)
${clusterLines(stack, replicas)}${databases}
    RabbitMQ      ${maskUrl(stack.broker.url)}${stack.broker.external ? '' : `   (node ${stack.broker.options.nodeName})`}
    logs          ${stack.logDir}   (restarts: ${supervisorFile})
  A process that dies is restarted; Ctrl-C stops everything.
`);
  await new Promise(() => {}); // supervision keeps it up; Ctrl-C's handler stops everything and exits
} catch (err) {
  log.error(err.message);
  await cleanup();
  process.exit(1);
}

/** The plain stack's application tier: one worker, one API on API_PORT, both supervised. */
async function startSingle({ root, env, logDir, base }) {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  // Started again when they die (after the first start, which must succeed); a restarted API is ready once it answers.
  const launchWorker = async () => start('worker', tsx, ['src/worker.ts'], { cwd: root, env: { ...env, ...workerProcessEnv(env) }, logFile: join(logDir, 'worker.log') });
  const launchApi = async () => {
    const entry = start('api', tsx, ['src/api/server.ts'], { cwd: root, env, logFile: join(logDir, 'api.log') });
    await waitFor('API /healthz', async () => (await fetch(`${base}/healthz`)).ok, { entry, timeoutMs: 90_000 });
    return entry;
  };
  let worker = await launchWorker();
  let api = await launchApi();
  await waitFor('API /readyz', async () => (await fetch(`${base}/readyz`)).ok, { entry: api, timeoutMs: 90_000 });
  supervise('worker', async () => (worker = await launchWorker()), { current: () => worker });
  supervise('api', async () => (api = await launchApi()), { current: () => api });

  return { apis: [api], workers: [worker] };
}

/** The `--cluster` / `--ha` part of the banner (empty on the dev server). */
function clusterLines(stack, replicas) {
  const lines = [];
  if (stack.temporal.nodes) {
    lines.push(`    Temporal      ${stack.temporal.nodes.map((n) => `${n.name} ${n.address}`).join(', ')}   (rings: ${stack.temporal.tdbg} --address ${stack.temporal.address} membership list-gossip)`);
    lines.push(`    PostgreSQL    127.0.0.1:${stack.temporal.pg.port}   temporal, temporal_visibility (data in ${stack.temporal.pg.dataDir})`);
  }
  if (replicas.haproxy) {
    lines.push(`    HAProxy       API -> ${replicas.apis.map((a) => `${a.name} :${a.port}`).join(', ')}; Temporal -> both frontends (socket ${replicas.haproxy.socket})`);
    lines.push(`    workers       ${replicas.workers.map((w) => w.name).join(', ')} (every unit in each)`);
  }
  return lines.map((l) => `${l}\n`).join('');
}
