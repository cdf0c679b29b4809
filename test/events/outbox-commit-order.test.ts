// One aggregate's events leave the outbox in the order their transactions committed, against the real broker and
// database: two transactions each record an event of the same order, the one that began second tries to commit
// first, and the relay (started only once both are done) publishes them in commit order.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderConfirmed } from '../../src/events/catalog';
import { startDomainEvents } from '../../src/event-runtime';
import { newEvent } from '../../src/platform/events';
import { logger } from '../../src/platform/logger';
import { recordEvent } from '../../src/platform/outbox';
import { createFlowsEnv, uid, type FlowsEnv } from '../helpers/env';
import { isolatedEvents, recorder } from '../helpers/events';
import { until } from '../helpers/wait';

describe('outbox order', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv(await isolatedEvents({ RELAY_POLL_MS: '50', LOG_LEVEL: 'silent' }));
  });
  afterAll(() => ctx?.close());

  it('when a second transaction records an event of an aggregate while the first one to record one is still open, then the relay publishes them in the order they committed', async () => {
    const db = ctx.stores.db('orders');
    const orderId = uid('o-');
    const event = (total: number) => newEvent(OrderConfirmed, orderId, { orderId, customerId: 'c', paymentAccountId: 'acc-x', total, currency: 'USD' });
    const [first, second] = [event(1), event(2)];
    const committed: string[] = [];

    const t1 = await db.transaction();
    await recordEvent(db, t1, first); // its seq is allocated now; the transaction stays open
    const later = db.transaction(async (t) => recordEvent(db, t, second)).then(() => committed.push(second.id));
    await sleep(500); // the second commits now, unless it has to wait for the first
    await t1.commit();
    committed.push(first.id);
    await later;

    const rec = await recorder(ctx.config.broker.url, ctx.config.broker.prefix);
    const events = startDomainEvents({ config: ctx.config, stores: ctx.stores.list.filter((s) => s.domain === 'orders'), log: logger(ctx.config) });
    try {
      await until(() => rec.seen.has(first.id) && rec.seen.has(second.id), 20_000);
    } finally {
      await events.stop();
      await rec.close();
    }
    expect(rec.arrivals.filter((id) => id === first.id || id === second.id)).toEqual(committed);
  });
});
