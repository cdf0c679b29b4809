// Events of real flows. Concurrent transfers and checkouts: every state change yields exactly one outbox row and one
// published message per event id, and loyalty awards each confirmed order once. Then the same under a broker restart
// (a RabbitMQ node of this file's own, stopped and started while flows run): nothing lost, every effect once.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTransferId } from '../../src/activities/ledger/reads';
import { orderWorkflowId, type OrderInput } from '../../src/workflows/checkout/contract';
import { transferWorkflowId } from '../../src/workflows/transfer/contract';
import { select } from '../../src/platform/db/sql';
import { createAccount, createFlowsEnv, createProduct, fastTimeouts, uid, withWorker, type FlowsEnv } from '../helpers/env';
import { isolatedEvents, recorder, unpublished } from '../helpers/events';
import { until } from '../helpers/wait';

const policy = { approvalThreshold: 1_000_000, approvalTimeoutMs: 60_000, pointsPerMinorUnits: 100, merchantAccountId: 'merchant' };

interface Row {
  event_id: string;
  type: string;
  aggregate_id: string;
}

async function outboxRows(ctx: FlowsEnv): Promise<Row[]> {
  const all = await Promise.all(ctx.stores.list.filter((s) => s.domain !== 'api').map((s) => select<Row>(s.db, 'SELECT event_id, type, aggregate_id FROM outbox', [])));
  return all.flat();
}

async function allPublished(ctx: FlowsEnv) {
  const n = await Promise.all(ctx.stores.list.filter((s) => s.domain !== 'api').map((s) => unpublished(s.db)));
  return n.every((x) => x === 0);
}

/** Starts `transfers` transfers (every 4th refused) and `orders` checkouts, all at once; resolves with their ids. */
async function runFlows(ctx: FlowsEnv, transfers: number, orders: number, during?: () => Promise<void>) {
  const customer = uid('cust-');
  const accounts = await Promise.all(Array.from({ length: 4 }, (_, i) => createAccount(ctx, 1_000_000, 'USD', { shard: i % 2 })));
  const sku = await createProduct(ctx, 1_000, 10_000);
  return withWorker(ctx, async (taskQueue, { topology }) => {
    const transferIds: string[] = [];
    const orderIds: string[] = [];
    const handles = [];
    for (let i = 0; i < transfers; i++) {
      const from = accounts[i % 4];
      const id = newTransferId(ctx.stores, from);
      transferIds.push(id);
      const amount = i % 4 === 3 ? 999_999_999 : 100 + i;
      const args = [{ id, fromAccountId: from, toAccountId: accounts[(i + 1) % 4], amount, currency: 'USD', timeouts: fastTimeouts, topology }];
      handles.push(ctx.env.client.workflow.start('transferMoney', { taskQueue, workflowId: transferWorkflowId(id), args }));
    }
    for (let i = 0; i < orders; i++) {
      const id = uid('o-');
      orderIds.push(id);
      const input: OrderInput = { id, customerId: customer, paymentAccountId: accounts[i % 4], items: [{ sku, quantity: 1 + (i % 3) }], policy, timeouts: fastTimeouts, topology };
      handles.push(ctx.env.client.workflow.start('checkoutOrder', { taskQueue, workflowId: orderWorkflowId(id), args: [input] }));
    }
    const started = await Promise.all(handles);
    await during?.();
    await Promise.all(started.map((h) => h.result()));
    return { transferIds, orderIds, customer };
  });
}

function expectOneEventPerChange(rows: Row[], transferIds: string[], orderIds: string[]) {
  const byAggregate = (id: string) => rows.filter((r) => r.aggregate_id === id).map((r) => r.type);
  for (const id of transferIds) expect([id, byAggregate(id)]).toEqual([id, [expect.stringMatching(/^transfer\.(completed|compensated)$/)]]);
  for (const id of orderIds) expect([id, byAggregate(id)]).toEqual([id, ['order.confirmed']]);
  expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
}

async function awardsPerOrder(ctx: FlowsEnv, customer: string) {
  const rows = await select<{ order_id: string; n: number }>(
    ctx.stores.db('loyalty'),
    `SELECT order_id, COUNT(*) AS n FROM points_entries WHERE customer_id = ? AND kind = 'award' GROUP BY order_id`,
    [customer],
  );
  return new Map(rows.map((r) => [r.order_id, Number(r.n)]));
}

describe('events of concurrent flows', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv(await isolatedEvents({ RELAY_POLL_MS: '50', RELAY_BATCH_SIZE: '20' }));
  });
  afterAll(async () => ctx?.close());

  it('when transfers and checkouts run at once, then each change has exactly one event row and one published message, and one award per order', async () => {
    const rec = await recorder(ctx.config.broker.url, ctx.config.broker.prefix);
    try {
      const { transferIds, orderIds, customer } = await runFlows(ctx, 16, 8);
      await withWorker(ctx, async () => {
        await until(() => allPublished(ctx), 30_000);
        await until(async () => (await awardsPerOrder(ctx, customer)).size === orderIds.length, 30_000);
      });
      const rows = await outboxRows(ctx);
      expectOneEventPerChange(rows, transferIds, orderIds);
      await until(() => rows.every((r) => rec.seen.has(r.event_id)), 10_000);
      expect(rows.filter((r) => rec.seen.get(r.event_id) !== 1)).toEqual([]);
      expect([...(await awardsPerOrder(ctx, customer)).values()].every((n) => n === 1)).toBe(true);
      expect(rows.filter((r) => r.type === 'points.awarded')).toHaveLength(orderIds.length);
    } finally {
      await rec.close();
    }
  });
});

describe('events across a broker restart', () => {
  let ctx: FlowsEnv;
  let rabbit: { url: string; entry: unknown; options: unknown };
  let rmq: any;
  beforeAll(async () => {
    const lib = '../../scripts/lib/rabbitmq.mjs';
    const procs = '../../scripts/lib/procs.mjs';
    rmq = await import(lib);
    const { freePort } = await import(procs);
    const dir = mkdtempSync(join(process.env.SAGAFLOW_TEST_WORKDIR ?? tmpdir(), 'rabbit-restart-'));
    rabbit = await rmq.startRabbitMq({ dir: join(dir, 'node'), logDir: join(dir, 'logs'), port: await freePort(), distPort: await freePort(), epmdPort: await freePort(), user: 'sagaflow', password: 'restart-test', name: 'rabbitmq-restart' });
    ctx = await createFlowsEnv(await isolatedEvents({ BROKER_URL: rabbit.url, RELAY_POLL_MS: '50', RELAY_BATCH_SIZE: '10' }));
  }, 180_000);
  afterAll(async () => {
    await ctx?.close();
    await rmq?.stopRabbitMq(rabbit?.entry);
  });

  it('when the broker restarts while flows run, then every row is published and every confirmed order is awarded once', async () => {
    const { transferIds, orderIds, customer } = await runFlows(ctx, 10, 10, async () => {
      await new Promise((r) => setTimeout(r, 500));
      await rmq.stopRabbitMq(rabbit.entry);
      await new Promise((r) => setTimeout(r, 1_500));
      Object.assign(rabbit, await rmq.startRabbitMq(rabbit.options));
    });
    await withWorker(ctx, async () => {
      await until(() => allPublished(ctx), 60_000);
      await until(async () => (await awardsPerOrder(ctx, customer)).size === orderIds.length, 60_000);
    });
    expectOneEventPerChange(await outboxRows(ctx), transferIds, orderIds);
    const awards = await awardsPerOrder(ctx, customer);
    expect(orderIds.filter((id) => awards.get(id) !== 1)).toEqual([]);
  });
});
