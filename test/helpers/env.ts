// Per-file test environment: the real Temporal dev server and the real MariaDB started by `npm test`, a worker on a
// fresh task queue per test, and data builders that leave each test's rows to itself.
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, Worker, DefaultLogger, type WorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities } from '../../src/activities';
import { loadConfig, type Config } from '../../src/config';
import { createSequelize, type Db } from '../../src/db/sequelize';
import { select } from '../../src/db/sql';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { setupTracing } from '../../src/telemetry/tracing';
import { tracingPlugin } from '../../src/telemetry/worker';

let runtimeInstalled = false;

export interface FlowsEnv {
  config: Config;
  db: Db;
  env: TestWorkflowEnvironment;
  close(): Promise<void>;
}

export async function createFlowsEnv(overrides: Record<string, string> = {}): Promise<FlowsEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const config = loadConfig({ ...process.env, ...overrides });
  const db = createSequelize(config.db);
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
  });
  return {
    config,
    db,
    env,
    async close() {
      await env.teardown();
      await db.close();
    },
  };
}

export function uid(prefix = ''): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

/** Creates a worker on a fresh task queue and runs `fn` while it polls. */
export async function withWorker<T>(
  ctx: FlowsEnv,
  fn: (taskQueue: string) => Promise<T>,
  options: Partial<WorkerOptions> = {},
): Promise<T> {
  const taskQueue = options.taskQueue ?? uid('tq-');
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection,
    namespace: ctx.config.temporal.namespace,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: createActivities({ db: ctx.db }),
    plugins: [testTracingPlugin()],
    ...options,
  });
  return worker.runUntil(fn(taskQueue));
}

export async function createAccount(db: Db, balance: number, currency = 'USD'): Promise<string> {
  const id = uid('acc-');
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

export async function createProduct(db: Db, price: number, stock: number, currency = 'USD'): Promise<string> {
  const sku = uid('sku-');
  await db.query(
    `INSERT INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at) VALUES (?, 'test product', ?, ?, ?, 0, NOW(3), NOW(3))`,
    { replacements: [sku, price, currency, stock] },
  );
  return sku;
}

export async function account(db: Db, id: string) {
  const [row] = await select<{ balance: number; frozen: number }>(db, 'SELECT balance, frozen FROM accounts WHERE id = ?', [id]);
  return row;
}

export async function product(db: Db, sku: string) {
  const [row] = await select<{ stock: number; reserved: number }>(db, 'SELECT stock, reserved FROM products WHERE sku = ?', [sku]);
  return row;
}

/** Sum of balance + frozen over the given accounts: conserved by every flow. */
export async function moneyIn(db: Db, ids: string[]): Promise<number> {
  const [row] = await select<{ total: number }>(db, 'SELECT COALESCE(SUM(balance + frozen), 0) AS total FROM accounts WHERE id IN (?)', [ids]);
  return Number(row.total);
}

export async function ledgerSum(db: Db, accountId: string): Promise<number> {
  const [row] = await select<{ s: number }>(db, 'SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_entries WHERE account_id = ?', [accountId]);
  return Number(row.s);
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
