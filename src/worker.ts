// The worker process: serves the units it is told to (WORKER_SERVE or --serve: `flows`, a domain such as `ledger` or
// `inventory`, or one shard such as `ledger:1`; all by default), one Temporal worker per unit's task queue in one
// process over one connection. A domain unit holds a pool to its own database only; the flows unit runs workflows and
// no activities. Run as many processes as you like, any of them killable at any time (Temporal re-dispatches, the
// barrier keeps effects exactly-once). SIGTERM/SIGINT drain in-flight tasks within WORKER_SHUTDOWN_GRACE_MS.
// A store unit polls only while its database answers (platform/temporal/gated-worker.ts). SIGHUP or a change to
// CONFIG_FILE reloads the live settings (log level, consumer retries: platform/config-reload.ts).
import { existsSync } from 'node:fs';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { assertWorkerConfig, loadSettings, settingsEnv, type Config } from './config';
import { createLiveConfig } from './platform/config-reload';
import { databaseAnswers, gatedWorker } from './platform/temporal/gated-worker';
import { serviceNamed, serviceStores } from './activities';
import { startDomainEvents } from './event-runtime';
import { runsOfFlow, workflowModules } from './workflows';
import { logger, type Logger } from './platform/logger';
import { startRetentionJob, temporalRunningFlows } from './platform/retention';
import { startXaRecoveryJob, temporalDecider } from './platform/xa-recovery';
import { FLOWS_UNIT, openStores, taskQueueOf, type OpenStore, type StoreRef } from './platform/stores';
import { dataConverterFor } from './platform/codec/data-converter';
import { connectClient, connectionOptions } from './platform/temporal/connection';
import { prebuiltBundle, writeWorkflowEntry } from './platform/temporal/bundle';
import { setupTracing, type Tracing } from './platform/telemetry/tracing';
import { installRuntimeMetrics, tracingPlugin } from './platform/telemetry/worker';

export interface Selection {
  flows: boolean;
  stores: StoreRef[];
}

/** Which units a `serve` list names: `flows`, `<domain>` (every store of it) or `<domain>:<shard>`. */
export function selectUnits(config: Config, serve: readonly string[]): Selection {
  const all = serviceStores(config);
  if (serve.length === 0) return { flows: true, stores: all };
  const stores = new Map<string, StoreRef>();
  let flows = false;
  for (const item of serve) {
    if (item === FLOWS_UNIT) {
      flows = true;
      continue;
    }
    const [name, shard] = item.split(':');
    const domain = serviceNamed(name);
    const of = all.filter((s) => s.domain === domain.name && (shard === undefined || String(s.index) === shard));
    if (!of.length) throw new Error(`WORKER_SERVE: ${item} names no store (the ${name} domain has ${all.filter((s) => s.domain === name).length})`);
    for (const s of of) stores.set(s.unit, s);
  }
  return { flows, stores: [...stores.values()] };
}

export interface WorkerSetOptions {
  config: Config;
  connection: NativeConnection;
  stores: OpenStore[];
  flows: boolean;
  tracing: Pick<Tracing, 'resource' | 'spanProcessor' | 'enabled'>;
  /** A prebuilt bundle (WORKFLOW_BUNDLE_PATH, tests); otherwise the flows registry is bundled at start. */
  workflowBundlePath?: string;
  /** Activities served on the flows queue beside the workflows (test probes only). */
  flowsActivities?: Record<string, (...args: any[]) => Promise<unknown>>;
  overrides?: Partial<WorkerOptions>;
}

/** One Temporal worker per unit: the flows queue (workflows) and each store's queue (that domain's activities). */
export async function createWorkers(o: WorkerSetOptions): Promise<Worker[]> {
  const { config } = o;
  const prefix = config.temporal.taskQueuePrefix;
  const common = {
    connection: o.connection,
    namespace: config.temporal.namespace,
    shutdownGraceTime: config.worker.shutdownGraceMs,
    dataConverter: dataConverterFor(config.codec.keys),
    // No exporter, no interceptors: the plugin also adds the workflow interceptor modules to a bundle built here.
    plugins: o.tracing.enabled ? [tracingPlugin(o.tracing)] : [],
  };
  const workers: Promise<Worker>[] = [];
  if (o.flows) {
    const bundle = o.workflowBundlePath && existsSync(o.workflowBundlePath) ? o.workflowBundlePath : undefined;
    workers.push(
      Worker.create({
        ...common,
        taskQueue: taskQueueOf(prefix, FLOWS_UNIT),
        ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: writeWorkflowEntry(workflowModules) }),
        maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
        maxCachedWorkflows: config.worker.maxCachedWorkflows,
        ...(o.flowsActivities ? { activities: o.flowsActivities } : {}),
        ...o.overrides,
      }),
    );
  }
  for (const store of o.stores) {
    const domain = serviceNamed(store.domain);
    if (!domain.activities) continue;
    workers.push(
      Worker.create({
        ...common,
        taskQueue: taskQueueOf(prefix, store.unit),
        activities: domain.activities({ store, config }),
        maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
        ...o.overrides,
      }),
    );
  }
  return Promise.all(workers);
}

/** The XA recovery job on every served store whose domain runs XA branches. */
export function startXaRecovery(stores: OpenStore[], config: Config, decide: Parameters<typeof startXaRecoveryJob>[2], log: Logger) {
  return stores.filter((s) => serviceNamed(s.domain).xa).map((s) => startXaRecoveryJob(s, config.xaRecovery, decide, log, config.temporal));
}

function serveArg(argv: string[]): string[] | undefined {
  const i = argv.findIndex((a) => a === '--serve' || a.startsWith('--serve='));
  if (i < 0) return undefined;
  const value = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

async function main() {
  const { settings, config } = loadSettings();
  assertWorkerConfig(config);
  const log: Logger = logger(config).child({ component: 'worker' });
  const live = createLiveConfig(settings, config, { readEnv: () => settingsEnv(), log });
  const stopWatching = live.watch();
  const selection = selectUnits(config, serveArg(process.argv.slice(2)) ?? config.worker.serve);
  installRuntimeMetrics(config.worker.metricsAddress);
  const tracing = setupTracing(config.tracing, 'sagaflow-worker');
  const stores = openStores(selection.stores, config.db.pool);
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  const set = { config, connection, tracing };
  const workers = await createWorkers({
    ...set,
    stores: [],
    flows: selection.flows,
    workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH && prebuiltBundle(process.env.WORKFLOW_BUNDLE_PATH, tracing.enabled),
  });
  // Each store unit's worker polls only while its database answers; recreated when it is back.
  const gates = stores.list
    .filter((s) => serviceNamed(s.domain).activities)
    .map((store) =>
      gatedWorker({ unit: store.unit, create: async () => (await createWorkers({ ...set, stores: [store], flows: false }))[0], probe: databaseAnswers(store.db), log }),
    );
  // Beside the SDK's own handlers (which shut down the running workers): no paused unit starts polling again.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => gates.forEach((g) => g.shutdown()));
  // Retention asks Temporal which flows still run before it deletes their barrier rows (a client connection of its own).
  const client = stores.list.length ? await connectClient(config.temporal, config.codec) : undefined;
  const running = client ? temporalRunningFlows(client, runsOfFlow) : async () => new Set<string>();
  const retention = stores.list.map((s) =>
    startRetentionJob(s, config.retention, running, log, { ...config.events, inbox: Boolean(serviceNamed(s.domain).consumers?.length) }),
  );
  // Prepared XA branches left by a crash are resolved by their flow's decision (or presumed aborted).
  const xa = client ? startXaRecovery(stores.list, config, temporalDecider(client), log) : [];
  // The outbox relay of every store served here, and the consumers of the services served here.
  const events = stores.list.length && (config.events.relay || config.events.consume) ? startDomainEvents({ config, live, stores: stores.list, log }) : undefined;
  log.info(
    {
      units: [...(selection.flows ? [FLOWS_UNIT] : []), ...selection.stores.map((s) => s.unit)],
      prefix: config.temporal.taskQueuePrefix,
      address: config.temporal.address,
      metrics: config.worker.metricsAddress ?? 'off',
    },
    'worker started',
  );
  try {
    await Promise.all([...workers.map((w) => w.run()), ...gates.map((g) => g.run())]); // each resolves after a shutdown signal once its tasks drained
  } finally {
    stopWatching();
    for (const r of [...retention, ...xa]) r.stop();
    await events?.stop();
    await client?.connection.close();
    await connection.close();
    await stores.close();
    await tracing.shutdown();
    log.info('worker stopped');
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(JSON.stringify({ level: 'fatal', msg: 'worker failed', error: String(err?.message ?? err) }));
    process.exit(1);
  });
}
