// A poison message: loyalty's handler fails on it every time (an injected bug), so after CONSUMER_MAX_ATTEMPTS it
// lands in the dead-letter queue, the keeper records it, operators see it (API key required even in development) and
// a metric counts it; once the bug is fixed, a replay applies it exactly once, and a second replay is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { OrderConfirmed } from '../../src/events/catalog';
import { startApiEvents, startDomainEvents } from '../../src/event-runtime';
import { select } from '../../src/platform/db/sql';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import { createFlowsEnv, uid, type FlowsEnv } from '../helpers/env';
import { isolatedEvents, seedOutbox } from '../helpers/events';
import { until } from '../helpers/wait';

let ctx: FlowsEnv;
beforeAll(async () => {
  ctx = await createFlowsEnv(await isolatedEvents({ API_KEYS: 'ops-key', CONSUMER_MAX_ATTEMPTS: '3', CONSUMER_RETRY_BASE_MS: '50', RELAY_POLL_MS: '50' }));
});
afterAll(async () => ctx?.close());

describe('dead letters', () => {
  it('when a message fails N times, then it is dead-lettered, listed, counted, and a replay after the fix applies it once', async () => {
    const customerId = uid('cust-');
    const poison = `o-${customerId}-poison`;
    let broken = true;
    let poisonCalls = 0;
    const domainEvents = startDomainEvents({
      config: ctx.config,
      stores: ctx.stores.list.filter((s) => s.domain !== 'api'),
      log: logger(ctx.config),
      wrapHandler: (_name, handle) => async (event, t) => {
        if ((event.data as { orderId?: string }).orderId === poison) {
          poisonCalls++;
          if (broken) throw new Error('injected bug: cannot award this order');
        }
        return handle(event, t);
      },
    });
    const apiEvents = startApiEvents({ config: ctx.config, db: ctx.stores.db('api'), log: logger(ctx.config) });
    const app = createApp({ config: ctx.config, stores: ctx.stores, temporal: ctx.env.client, log: logger(ctx.config), metrics: createMetrics(), broker: apiEvents.broker });
    const call = async (method: string, path: string, key?: string) => {
      const res = await app.request(path, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });
      return { status: res.status, json: (await res.json().catch(() => null)) as any };
    };
    const awards = async () =>
      (await select<{ order_id: string }>(ctx.stores.db('loyalty'), `SELECT order_id FROM points_entries WHERE customer_id = ? AND kind = 'award'`, [customerId])).map((r) => r.order_id);
    try {
      const data = (i: number) => ({ orderId: i === 0 ? poison : `o-${customerId}-${i}`, customerId, paymentAccountId: 'acc-x', total: 500, currency: 'USD' });
      const [poisonEventId] = await seedOutbox(ctx.stores.db('orders'), OrderConfirmed, 3, data, (i) => data(i).orderId);

      await until(async () => (await call('GET', '/v1/ops/dead-letters', 'ops-key')).json?.data?.items?.length === 1, 30_000);
      const [dead] = (await call('GET', '/v1/ops/dead-letters', 'ops-key')).json.data.items;
      expect(dead).toMatchObject({ consumer: 'loyalty-orders', eventId: poisonEventId, type: 'order.confirmed', attempts: 3, replayedAt: null });
      expect(dead.error).toContain('injected bug');
      expect(poisonCalls).toBe(3);
      expect((await awards()).sort()).toEqual([`o-${customerId}-1`, `o-${customerId}-2`]); // the others went through

      // Operators' routes need a key, whatever the mode; a development API without keys refuses them too.
      expect((await call('GET', '/v1/ops/dead-letters')).status).toBe(401);
      const openConfig = loadConfig({ ...process.env, API_KEYS: '', NODE_ENV: 'development', API_DATABASE_URL: ctx.config.db.urls.api });
      const open = createApp({ config: openConfig, stores: ctx.stores, temporal: ctx.env.client, log: logger(ctx.config), metrics: createMetrics() });
      const refused = await open.request('/v1/ops/dead-letters');
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { code: number }).code).toBe(4010);

      const metrics = await (await app.request('/metrics')).text();
      expect(metrics).toMatch(/sagaflow_dead_letters\{consumer="loyalty-orders"\} 1/);
      expect(metrics).toMatch(/sagaflow_outbox_backlog\{unit="orders"\} 0/);

      broken = false; // the fix is deployed
      const replayed = await call('POST', `/v1/ops/dead-letters/${dead.id}/replay`, 'ops-key');
      expect(replayed.status).toBe(200);
      expect(replayed.json.data.replayedAt).not.toBeNull();
      await until(async () => (await awards()).includes(poison), 20_000);
      expect((await call('POST', `/v1/ops/dead-letters/${dead.id}/replay`, 'ops-key')).status).toBe(409);
      expect((await call('POST', `/v1/ops/dead-letters/999999999/replay`, 'ops-key')).status).toBe(404);
      expect((await call('POST', `/v1/ops/dead-letters/abc/replay`, 'ops-key')).status).toBe(400);
      expect(await (await app.request('/metrics')).text()).not.toMatch(/sagaflow_dead_letters\{consumer="loyalty-orders"\} [1-9]/);
    } finally {
      await apiEvents.stop();
      await domainEvents.stop();
    }
    expect((await awards()).filter((o) => o === poison)).toHaveLength(1);
    expect(poisonCalls).toBe(4);
  });
});
