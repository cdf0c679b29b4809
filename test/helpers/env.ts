// Per-file test environment: the real Temporal dev server and the real MariaDB servers started by `npm test` (every
// domain's database, the ledger's shards on two servers), workers for every unit on a fresh task-queue prefix per
// test, and data builders that place each test's rows in the store that owns them.
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker, type WorkerOptions } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Sequelize } from 'sequelize';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { shardOf } from '../../src/activities/ledger/contract';
import { idOnShard } from '../../src/activities/ledger/reads';
import { allStores } from '../../src/stores';
import { dataConverterFor } from '../../src/platform/codec/data-converter';
import { select } from '../../src/platform/db/sql';
import { openStores, type Stores } from '../../src/platform/stores';
import { setupTracing } from '../../src/platform/telemetry/tracing';
import { tracingPlugin } from '../../src/platform/telemetry/worker';
import type { Topology } from '../../src/platform/workflow/types';
import { transferBatchWorkflowId, type BatchedTransfer } from '../../src/workflows/transfer/contract';
import { createWorkers } from '../../src/worker';
import { startDomainEvents } from '../../src/event-runtime';
import { logger } from '../../src/platform/logger';
import { until } from './wait';

let runtimeInstalled = false;

export interface FlowsEnv {
  config: Config;
  stores: Stores;
  /** A domain database for platform-level tests (barrier, saga and TCC probes): the orders store. */
  db: Sequelize;
  env: TestWorkflowEnvironment;
  close(): Promise<void>;
}

export async function createFlowsEnv(overrides: Record<string, string> = {}): Promise<FlowsEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const config = loadConfig({ ...process.env, ...overrides });
  const stores = openStores(allStores(config), config.db.pool);
  // The client encrypts and decrypts payloads with this run's keys, as the API's does (the workers: createWorkers).
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    client: { dataConverter: dataConverterFor(config.codec.keys) },
  });
  return {
    config,
    stores,
    db: stores.db('orders'),
    env,
    async close() {
      await env.teardown();
      await stores.close();
    },
  };
}

export function uid(prefix = ''): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

export interface WorkerRun {
  /** The flows task queue (start workflows here). */
  taskQueue: string;
  /** The topology to put in flow inputs (task queues of this run, ledger shard count). */
  topology: Topology;
}

export interface WithWorkerOptions {
  /** Activities on the flows queue beside the workflows (probe tests). */
  flowsActivities?: Record<string, (...args: any[]) => Promise<unknown>>;
  /** Units to serve (as WORKER_SERVE), all by default; domain units not listed get no worker. */
  units?: (stores: Stores) => string[];
  overrides?: Partial<WorkerOptions>;
  workflowBundlePath?: string;
  /** Outbox relays and consumers beside the workers (on), as a worker process runs them. */
  events?: boolean;
}

/** Starts the workers of every unit on a fresh task-queue prefix and runs `fn` while they poll. */
export async function withWorker<T>(ctx: FlowsEnv, fn: (taskQueue: string, run: WorkerRun) => Promise<T>, options: WithWorkerOptions = {}): Promise<T> {
  const prefix = uid('tq-');
  const workers = await startWorkers(ctx, prefix, options);
  // Every test file shares the broker prefix and the databases: any file's relay publishes any row, and any file's
  // loyalty consumer applies it (once, by its inbox) — points arrive eventually, as in production.
  const events = options.events === false ? undefined : startDomainEvents({ config: ctx.config, stores: ctx.stores.list.filter((s) => s.domain !== 'api'), log: logger(ctx.config) });
  const run = { taskQueue: `${prefix}-flows`, topology: topologyFor(ctx, prefix) };
  const done = fn(run.taskQueue, run);
  const [result, ...stopped] = await Promise.allSettled([done, ...workers.map((w) => w.runUntil(done.catch(() => undefined)))]);
  await events?.stop();
  if (result.status === 'rejected') throw result.reason;
  const crashed = stopped.find((r) => r.status === 'rejected');
  if (crashed) throw (crashed as PromiseRejectedResult).reason;
  return result.value;
}

export function topologyFor(ctx: Pick<FlowsEnv, 'stores'>, prefix: string): Topology {
  return { queuePrefix: prefix, ledgerShards: ctx.stores.of('ledger').length };
}

export async function startWorkers(ctx: FlowsEnv, prefix: string, options: WithWorkerOptions = {}): Promise<Worker[]> {
  const units = options.units?.(ctx.stores);
  const config = { ...ctx.config, temporal: { ...ctx.config.temporal, taskQueuePrefix: prefix } };
  return createWorkers({
    config,
    connection: ctx.env.nativeConnection,
    stores: ctx.stores.list.filter((s) => s.domain !== 'api' && (!units || units.includes(s.unit))),
    flows: !units || units.includes('flows'),
    tracing: testTracing(),
    workflowBundlePath: options.workflowBundlePath ?? inject('workflowBundlePath'),
    flowsActivities: options.flowsActivities,
    overrides: options.overrides,
  });
}

// ----- data builders: each row goes to the store that owns it -----

/** The database of the ledger shard that holds `id`. */
export function ledgerDb(ctx: Pick<FlowsEnv, 'stores'>, id: string): Sequelize {
  const shards = ctx.stores.of('ledger');
  return shards[shardOf(id, shards.length)].db;
}

/** Opens an account with an opening entry; on `shard` when given (tests cross shards on purpose), else wherever. */
export async function createAccount(ctx: Pick<FlowsEnv, 'stores'>, balance: number, currency = 'USD', { shard }: { shard?: number } = {}): Promise<string> {
  const shards = ctx.stores.of('ledger').length;
  const id = idOnShard(shard ?? Math.floor(Math.random() * shards), shards, 'acc-');
  const db = ledgerDb(ctx, id);
  await db.query(
    `INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES (?, 'test', ?, ?, 0, NOW(3), NOW(3))`,
    { replacements: [id, currency, balance] },
  );
  if (balance > 0) {
    await db.query(
      `INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES (?, ?, 'open', ?, 'opening', NOW(3))`,
      { replacements: [id, `account-${id}`, balance] },
    );
  }
  return id;
}

export async function createProduct(ctx: Pick<FlowsEnv, 'stores'>, price: number, stock: number, currency = 'USD'): Promise<string> {
  const sku = uid('sku-');
  await ctx.stores.db('inventory').query(
    `INSERT INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at) VALUES (?, 'test product', ?, ?, ?, 0, NOW(3), NOW(3))`,
    { replacements: [sku, price, currency, stock] },
  );
  return sku;
}

export async function account(ctx: Pick<FlowsEnv, 'stores'>, id: string) {
  const [row] = await select<{ balance: number; frozen: number }>(ledgerDb(ctx, id), 'SELECT balance, frozen FROM accounts WHERE id = ?', [id]);
  return row && { balance: Number(row.balance), frozen: Number(row.frozen) };
}

export async function product(ctx: Pick<FlowsEnv, 'stores'>, sku: string) {
  const [row] = await select<{ stock: number; reserved: number }>(ctx.stores.db('inventory'), 'SELECT stock, reserved FROM products WHERE sku = ?', [sku]);
  return row && { stock: Number(row.stock), reserved: Number(row.reserved) };
}

/** Sum of balance + frozen over the given accounts, each read on its own shard: conserved by every flow. */
export async function moneyIn(ctx: Pick<FlowsEnv, 'stores'>, ids: string[]): Promise<number> {
  let total = 0;
  for (const id of ids) {
    const a = await account(ctx, id);
    total += a ? a.balance + a.frozen : 0;
  }
  return total;
}

export async function ledgerSum(ctx: Pick<FlowsEnv, 'stores'>, accountId: string): Promise<number> {
  const [row] = await select<{ s: number }>(ledgerDb(ctx, accountId), 'SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_entries WHERE account_id = ?', [accountId]);
  return Number(row.s);
}

/** Ledger entries of a flow on an account's shard, in commit order. */
export async function entriesOf(ctx: Pick<FlowsEnv, 'stores'>, accountId: string, flowId: string) {
  return select<{ step: string; amount: number }>(ledgerDb(ctx, accountId), 'SELECT step, amount FROM ledger_entries WHERE flow_id = ? AND account_id = ? ORDER BY id', [
    flowId,
    accountId,
  ]).then((rows) => rows.map((r) => ({ step: r.step, amount: Number(r.amount) })));
}

/**
 * Waits until loyalty's points for `customerId` reach `expected` (they follow order.confirmed), relaying and
 * consuming meanwhile as a worker process would (the flow's own workers may have stopped), then returns them.
 */
export async function eventualPoints(ctx: Pick<FlowsEnv, 'stores' | 'config'>, customerId: string, expected: number, timeoutMs = 90_000): Promise<number> {
  const events = startDomainEvents({ config: ctx.config, stores: ctx.stores.list.filter((s) => s.domain !== 'api'), log: logger(ctx.config) });
  try {
    await until(async () => (await pointsOf(ctx, customerId)) === expected, timeoutMs).catch(() => undefined);
    return pointsOf(ctx, customerId);
  } finally {
    await events.stop();
  }
}

export async function pointsOf(ctx: Pick<FlowsEnv, 'stores'>, customerId: string): Promise<number> {
  const [row] = await select<{ p: number }>(ctx.stores.db('loyalty'), 'SELECT COALESCE(SUM(points), 0) AS p FROM points_entries WHERE customer_id = ?', [customerId]);
  return Number(row.p);
}

export const fastTimeouts = { stepStartToCloseMs: 5_000, stepScheduleToCloseMs: 20_000, compensationStuckAfterMs: 60_000 };

let tracing: ReturnType<typeof setupTracing> | undefined;
/** One tracer provider per test process, recording spans in memory (the tracing test reads them). */
export function testTracing() {
  tracing ??= setupTracing({ exporter: 'none', otlpEndpoint: 'http://127.0.0.1:1/unused' }, 'sagaflow-test', new SimpleSpanProcessor(spans));
  return tracing;
}
export const spans = new InMemorySpanExporter();
export const testTracingPlugin = () => tracingPlugin(testTracing());

// ----- transfer modes: what a TCC or XA transfer may leave behind -----

/** An account's pending (unspendable, incoming TCC) credit. */
export async function pendingOf(ctx: Pick<FlowsEnv, 'stores'>, id: string): Promise<number> {
  const [row] = await select<{ pending: number }>(ledgerDb(ctx, id), 'SELECT pending FROM accounts WHERE id = ?', [id]);
  return Number(row?.pending ?? 0);
}

/** Prepared XA transactions (XA RECOVER) on every ledger shard's server whose gtrid starts with `prefix`. */
export async function preparedXa(ctx: Pick<FlowsEnv, 'stores'>, prefix = ''): Promise<string[]> {
  const found = new Set<string>();
  for (const shard of ctx.stores.of('ledger')) {
    const rows = await shard.db.query('XA RECOVER', { type: 'SELECT' as never });
    for (const r of rows as unknown as { gtrid_length: number; data: Buffer | string }[]) {
      const data = Buffer.isBuffer(r.data) ? r.data.toString() : String(r.data);
      if (data.startsWith(prefix)) found.add(`${data.slice(0, Number(r.gtrid_length))},${data.slice(Number(r.gtrid_length))}`);
    }
  }
  return [...found];
}

/** Starts a transferBatch run holding `transfers` on the test's flows task queue, with fast step timeouts. */
export function startTransferBatch(ctx: FlowsEnv, run: { taskQueue: string; topology: Topology }, batchId: string, transfers: BatchedTransfer[]) {
  const { taskQueue, topology } = run;
  return ctx.env.client.workflow.start('transferBatch', {
    taskQueue,
    workflowId: transferBatchWorkflowId(batchId),
    args: [{ batchId, timeouts: fastTimeouts, topology, transfers }],
  });
}
