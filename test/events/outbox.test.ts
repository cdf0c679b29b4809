// The outbox, the relay and loyalty's consumer against the real broker and databases: every state change of concurrent
// flows yields exactly one event row and one published message per event id; a relay SIGKILLed mid-batch loses
// nothing; a consumer killed between its effect and its ack applies the effect once.
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCancelled, OrderConfirmed } from '../../src/events/catalog';
import { purgeEventRows } from '../../src/platform/retention';
import { startDomainEvents } from '../../src/event-runtime';
import { select } from '../../src/platform/db/sql';
import { logger } from '../../src/platform/logger';
import { createFlowsEnv, uid, type FlowsEnv } from '../helpers/env';
import { isolatedEvents, recorder, seedOutbox, unpublished } from '../helpers/events';
import { until } from '../helpers/wait';

let ctx: FlowsEnv;
let env: Record<string, string>;

beforeAll(async () => {
  env = await isolatedEvents({ RELAY_POLL_MS: '50', CONSUMER_RETRY_BASE_MS: '50', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' });
  ctx = await createFlowsEnv(env);
});
afterAll(async () => ctx?.close());

const confirmed = (customerId: string) => (i: number) => ({ orderId: `o-${customerId}-${i}`, customerId, paymentAccountId: 'acc-x', total: 100 * (i + 1), currency: 'USD' });

async function awardsOf(customerId: string) {
  return select<{ order_id: string; points: number }>(ctx.stores.db('loyalty'), `SELECT order_id, points FROM points_entries WHERE customer_id = ? AND kind = 'award'`, [customerId]);
}

describe('outbox relay and loyalty consumer', () => {
  it('when order.confirmed rows are relayed, then loyalty awards each order its points once', async () => {
    const customerId = uid('cust-');
    const ids = await seedOutbox(ctx.stores.db('orders'), OrderConfirmed, 20, confirmed(customerId), (i) => `o-${customerId}-${i}`);
    const rec = await recorder(ctx.config.broker.url, ctx.config.broker.prefix);
    const events = startDomainEvents({ config: ctx.config, stores: ctx.stores.list.filter((s) => s.domain !== 'api'), log: logger(ctx.config) });
    try {
      await until(async () => (await awardsOf(customerId)).length === 20, 30_000);
      await until(() => ids.every((id) => rec.seen.has(id)), 10_000);
    } finally {
      await events.stop();
      await rec.close();
    }
    const awards = await awardsOf(customerId);
    expect(awards.map((a) => Number(a.points)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await unpublished(ctx.stores.db('orders'))).toBe(0);
    expect([...rec.seen.values()].every((n) => n === 1)).toBe(true);
  });
});

/** One Node process (tsx as a loader, not its wrapper: a SIGKILL must hit the process that does the work). */
function eventProcess(extra: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/event-process.ts'], { env: { ...process.env, ...env, ...extra }, stdio: 'ignore' });
}
const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode ? r() : p.once('exit', () => r())));

describe('relays, order and retention', () => {
  it('when three relays share one outbox, then each aggregate\'s events arrive in the order they were written, each once', async () => {
    const customerId = uid('cust-');
    const aggregates = 8;
    const ids = await seedOutbox(ctx.stores.db('orders'), OrderConfirmed, 400, confirmed(customerId), (i) => `agg-${customerId}-${i % aggregates}`, 50);
    const rec = await recorder(ctx.config.broker.url, ctx.config.broker.prefix);
    const relays = [1, 2, 3].map(() =>
      startDomainEvents({ config: { ...ctx.config, events: { ...ctx.config.events, relayBatchSize: 15 } }, stores: ctx.stores.of('orders'), log: logger(ctx.config), consume: false }),
    );
    try {
      await until(() => ids.every((id) => rec.seen.has(id)), 60_000);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await rec.close();
    }
    expect([...rec.seen.values()].every((n) => n === 1)).toBe(true);
    for (let a = 0; a < aggregates; a++) {
      const written = ids.filter((_, i) => i % aggregates === a);
      const arrived = rec.arrivals.filter((id) => written.includes(id));
      expect(arrived).toEqual(written);
    }
  });

  it('when published rows are older than OUTBOX_RETENTION_HOURS, then retention purges them and keeps unpublished ones', async () => {
    const db = ctx.stores.db('inventory'); // an outbox no relay of this file touches
    const customerId = uid('cust-');
    const ids = await seedOutbox(db, OrderConfirmed, 4, confirmed(customerId), (i) => `r-${customerId}-${i}`);
    await db.query('UPDATE outbox SET published_at = NOW(3) - INTERVAL 2 DAY WHERE event_id IN (?)', { replacements: [ids.slice(0, 3)] });
    await db.query('UPDATE outbox SET published_at = NOW(3) WHERE event_id = ?', { replacements: [ids[2]] });
    const purged = await purgeEventRows(db, { outboxRetentionHours: 24, inboxRetentionDays: 7, inbox: false });
    expect(purged.publishedEvents).toBe(2);
    const left = await select<{ event_id: string }>(db, 'SELECT event_id FROM outbox WHERE event_id IN (?)', [ids]);
    expect(left.map((r) => r.event_id).sort()).toEqual([ids[2], ids[3]].sort());
  });

  it('when an order is cancelled after its points were awarded, then they are taken back once and points.revoked is announced', async () => {
    const customerId = uid('cust-');
    const orderId = `o-${customerId}`;
    const orders = ctx.stores.db('orders');
    await seedOutbox(orders, OrderConfirmed, 1, () => ({ orderId, customerId, paymentAccountId: 'acc-x', total: 2_500, currency: 'USD' }), () => orderId);
    const events = startDomainEvents({ config: ctx.config, stores: ctx.stores.list.filter((s) => s.domain !== 'api'), log: logger(ctx.config) });
    const points = async () =>
      Number((await select<{ p: number }>(ctx.stores.db('loyalty'), 'SELECT COALESCE(SUM(points), 0) AS p FROM points_entries WHERE customer_id = ?', [customerId]))[0].p);
    try {
      await until(async () => (await points()) === 25, 20_000);
      // Cancelled twice (two events, e.g. a retried announcement): one revocation.
      const cancels = await seedOutbox(orders, OrderCancelled, 2, () => ({ orderId, customerId, reason: { code: 'Refunded', message: 'refund' } }), () => orderId);
      await until(async () => (await points()) === 0, 20_000);
      // Both cancellations consumed (the second one found the revocation and changed nothing).
      await until(async () => {
        const [r] = await select<{ c: number }>(ctx.stores.db('loyalty'), `SELECT COUNT(*) AS c FROM inbox WHERE consumer = 'loyalty-orders' AND event_id IN (?)`, [cancels]);
        return Number(r.c) === 2;
      }, 20_000);
    } finally {
      await events.stop();
    }
    const entries = await select<{ kind: string; points: number }>(ctx.stores.db('loyalty'), 'SELECT kind, points FROM points_entries WHERE order_id = ? ORDER BY id', [orderId]);
    expect(entries.map((e) => [e.kind, Number(e.points)])).toEqual([['award', 25], ['revoke', -25]]);
    const announced = await select<{ type: string }>(ctx.stores.db('loyalty'), 'SELECT type FROM outbox WHERE aggregate_id = ? ORDER BY seq', [customerId]);
    expect(announced.map((a) => a.type)).toEqual(['points.awarded', 'points.revoked']);
  });
});

describe('crashes', () => {
  it('when the relay is SIGKILLed mid-batch, then after a restart every row is published and every event id arrives', async () => {
    const customerId = uid('cust-');
    const orders = ctx.stores.db('orders');
    const ids = await seedOutbox(orders, OrderConfirmed, 3000, confirmed(customerId), (i) => `o-${customerId}-${i % 50}`, 500);
    const rec = await recorder(ctx.config.broker.url, ctx.config.broker.prefix);
    try {
      // Small batches, no consumers: a relay only. Killed once a few hundred messages arrived.
      const relay = eventProcess({ EVENTS_UNITS: 'orders', EVENTS_CONSUME: 'false', RELAY_BATCH_SIZE: '25' });
      await until(() => rec.seen.size >= 300, 60_000, 5);
      relay.kill('SIGKILL');
      await exited(relay);
      const left = await unpublished(orders);
      expect(left).toBeGreaterThan(0); // it died with work left
      const again = eventProcess({ EVENTS_UNITS: 'orders', EVENTS_CONSUME: 'false', RELAY_BATCH_SIZE: '200' });
      try {
        await until(async () => (await unpublished(orders)) === 0, 90_000, 200);
        await until(() => ids.every((id) => rec.seen.has(id)), 20_000);
      } finally {
        again.kill('SIGTERM');
        await exited(again);
      }
    } finally {
      await rec.close();
    }
    // Nothing lost; a row published but not yet marked when the relay died is published again (the inbox absorbs it).
    expect(ids.filter((id) => !rec.seen.has(id))).toEqual([]);
    const dupes = [...rec.seen.values()].filter((n) => n > 1).length;
    expect(dupes).toBeLessThanOrEqual(25);
  });

  it('when the consumer is SIGKILLed between its effect and its ack, then each order is awarded exactly once', async () => {
    const customerId = uid('cust-');
    const n = 40;
    // The relay test left its 3000 order.confirmed messages in loyalty's queue (no consumer ran there): start empty.
    const admin = new Connection(ctx.config.broker.url);
    await admin.queuePurge({ queue: `${ctx.config.broker.prefix}.loyalty-orders` }).catch(() => undefined);
    await admin.close();
    await seedOutbox(ctx.stores.db('orders'), OrderConfirmed, n, confirmed(customerId), (i) => `o-${customerId}-${i}`);
    // The relay runs here; the loyalty consumer in a process that kills itself after its 5th commit (before the ack).
    const relay = startDomainEvents({ config: ctx.config, stores: ctx.stores.of('orders'), log: logger(ctx.config), consume: false });
    try {
      const crashing = eventProcess({ EVENTS_UNITS: 'loyalty', EVENTS_RELAY: 'false', CRASH_AFTER_COMMITS: '5' });
      await exited(crashing);
      expect(crashing.signalCode).toBe('SIGKILL');
      const partial = (await awardsOf(customerId)).length;
      expect(partial).toBeGreaterThanOrEqual(5);
      const healthy = eventProcess({ EVENTS_UNITS: 'loyalty', EVENTS_RELAY: 'false' });
      try {
        await until(async () => (await awardsOf(customerId)).length === n, 60_000, 200);
        // Let any redelivery of the message whose ack was lost be processed too.
        await until(async () => {
          const [row] = await select<{ c: number }>(ctx.stores.db('loyalty'), `SELECT COUNT(*) AS c FROM inbox WHERE consumer = 'loyalty-orders'`, []);
          return Number(row.c) >= n;
        }, 20_000);
      } finally {
        healthy.kill('SIGTERM');
        await exited(healthy);
      }
    } finally {
      await relay.stop();
    }
    const awards = await awardsOf(customerId);
    expect(awards).toHaveLength(n);
    expect(new Set(awards.map((a) => a.order_id)).size).toBe(n);
    const [sum] = await select<{ p: number }>(ctx.stores.db('loyalty'), 'SELECT COALESCE(SUM(points), 0) AS p FROM points_entries WHERE customer_id = ?', [customerId]);
    expect(Number(sum.p)).toBe((n * (n + 1)) / 2);
  });
});
