// The worker process: polls the task queue for workflow and activity tasks. Run as many as you like; any of them can
// be killed at any time (Temporal re-dispatches, the barrier keeps effects exactly-once). SIGTERM/SIGINT drain
// in-flight tasks within WORKER_SHUTDOWN_GRACE_MS, then the pool and connection close.
import { existsSync } from 'node:fs';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig, type Config } from './config';
import { createSequelize, type Db } from './db/sequelize';
import { startRetentionJob } from './jobs/retention';
import { logger } from './logger';
import { connectionOptions } from './temporal/connection';
import { setupTracing, type Tracing } from './telemetry/tracing';
import { installRuntimeMetrics, tracingPlugin } from './telemetry/worker';

export async function createWorker(
  config: Config,
  db: Db,
  connection: NativeConnection,
  tracing: Pick<Tracing, 'resource' | 'spanProcessor'>,
  overrides: Partial<WorkerOptions> = {},
) {
  const bundlePath = process.env.WORKFLOW_BUNDLE_PATH;
  const workflows =
    bundlePath && existsSync(bundlePath) ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: require.resolve('./workflows') };
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workflows,
    activities: createActivities({ db }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    shutdownGraceTime: config.worker.shutdownGraceMs,
    plugins: [tracingPlugin(tracing)],
    ...overrides,
  });
}

async function main() {
  const config = loadConfig();
  const log = logger(config).child({ component: 'worker' });
  installRuntimeMetrics(config.worker.metricsAddress);
  const tracing = setupTracing(config.tracing, 'sagaflow-worker');
  const db = createSequelize(config.db);
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  const worker = await createWorker(config, db, connection, tracing);
  const retention = startRetentionJob(db, config.retention, log);
  log.info(
    { taskQueue: config.temporal.taskQueue, address: config.temporal.address, metrics: config.worker.metricsAddress ?? 'off' },
    'worker started',
  );
  try {
    await worker.run(); // resolves after a shutdown signal once in-flight tasks drained
  } finally {
    retention.stop();
    await connection.close();
    await db.close();
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
