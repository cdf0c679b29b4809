// Webhooks end to end: registration over HTTP (secret once), the fan-out consumer and the dispatcher against a real
// local receiver. A receiver answering 500, then timing out, then 200 is delivered on the third attempt — across a
// dispatcher restart — with a signature that verifies by the documented algorithm; one that always fails is marked
// failed past the retry limit; production mode refuses URLs to private and loopback addresses.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { OrderConfirmed } from '../../src/events/catalog';
import { startApiEvents, startDomainEvents } from '../../src/event-runtime';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import { createFlowsEnv, uid, type FlowsEnv } from '../helpers/env';
import { isolatedEvents, seedOutbox } from '../helpers/events';
import { until } from '../helpers/wait';

let ctx: FlowsEnv;
let receiver: Server;
let base: string;
const received: Array<{ path: string; headers: IncomingMessage['headers']; body: string }> = [];
const calls: Record<string, number> = {};

beforeAll(async () => {
  ctx = await createFlowsEnv(
    await isolatedEvents({
      RELAY_POLL_MS: '50',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_BACKOFF_BASE_MS: '100',
      WEBHOOK_BACKOFF_MAX_MS: '200',
      WEBHOOK_TIMEOUT_MS: '700',
      WEBHOOK_RETRY_FOR_MS: '4000',
    }),
  );
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const n = (calls[path] = (calls[path] ?? 0) + 1);
      if (path === '/down') return void res.writeHead(500).end('no');
      // /flaky: 500 first, then no answer (past the timeout), then 200.
      if (n === 1) return void res.writeHead(500).end('boom');
      if (n === 2) return void setTimeout(() => res.writeHead(200).end('too late'), 2_000);
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  await ctx?.close();
});

function appFor(overrides: Record<string, string> = {}) {
  const config = overrides.NODE_ENV ? loadConfig({ ...process.env, ...envOf(ctx), ...overrides }) : ctx.config;
  const app = createApp({ config, stores: ctx.stores, temporal: ctx.env.client, log: logger(config), metrics: createMetrics() });
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };
}
const envOf = (c: FlowsEnv) => ({ API_DATABASE_URL: c.config.db.urls.api });

describe('webhooks', () => {
  it('when a receiver fails, times out and then answers, then the signed delivery is retried durably and delivered', async () => {
    const call = appFor();
    const created = await call('POST', '/v1/webhooks', { url: `${base}/flaky`, events: ['order.confirmed'], description: 'flaky receiver' });
    expect(created.status).toBe(201);
    const hook = created.json.data;
    expect(hook.secret).toMatch(/^whsec_/);
    const down = (await call('POST', '/v1/webhooks', { url: `${base}/down`, events: ['order.confirmed'] })).json.data;
    const other = (await call('POST', '/v1/webhooks', { url: `${base}/other`, events: ['transfer.completed'] })).json.data;
    // The secret is shown once.
    const read = await call('GET', `/v1/webhooks/${hook.id}`);
    expect(read.json.data).toMatchObject({ id: hook.id, url: `${base}/flaky`, events: ['order.confirmed'], description: 'flaky receiver' });
    expect(read.json.data.secret).toBeUndefined();

    const relay = startDomainEvents({ config: ctx.config, stores: ctx.stores.of('orders'), log: logger(ctx.config), consume: false });
    let api = startApiEvents({ config: ctx.config, db: ctx.stores.db('api'), log: logger(ctx.config) });
    const customerId = uid('cust-');
    const data = { orderId: `o-${customerId}`, customerId, paymentAccountId: 'acc-x', total: 4200, currency: 'USD' };
    const deliveries = async (id: string) => (await call('GET', `/v1/webhooks/${id}/deliveries?limit=10`)).json.data;
    try {
      const [eventId] = await seedOutbox(ctx.stores.db('orders'), OrderConfirmed, 1, () => data, () => data.orderId);
      // The first attempt fails; the API process "restarts" (dispatcher and consumer stopped, new ones started).
      await until(async () => (await deliveries(hook.id)).items[0]?.attempt >= 1, 20_000, 50);
      await api.stop();
      api = startApiEvents({ config: ctx.config, db: ctx.stores.db('api'), log: logger(ctx.config) });
      await until(async () => (await deliveries(hook.id)).items[0]?.status === 'delivered', 20_000, 50);
      const page = await deliveries(hook.id);
      expect(page.items).toEqual([{ eventId, type: 'order.confirmed', attempt: 3, status: 'delivered', responseStatus: 204, deliveredAt: expect.any(String) }]);
      expect(page.nextCursor).toBeNull();
      expect(calls['/flaky']).toBe(3);

      // The signature, checked as a receiver does: HMAC-SHA256(secret, "<t>.<raw body>") in hex.
      const [got] = received;
      const header = String(got.headers['sagaflow-signature']);
      const [, t, v1] = header.match(/^t=(\d+),v1=([0-9a-f]{64})$/)!;
      expect(createHmac('sha256', hook.secret).update(`${t}.${got.body}`).digest('hex')).toBe(v1);
      expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(300);
      expect(got.headers['sagaflow-event-id']).toBe(eventId);
      expect(got.headers['sagaflow-event-type']).toBe('order.confirmed');
      expect(JSON.parse(got.body)).toMatchObject({ id: eventId, type: 'order.confirmed', version: 1, aggregateId: data.orderId, data });

      // Past WEBHOOK_RETRY_FOR_MS the always-failing one is marked failed.
      await until(async () => (await deliveries(down.id)).items[0]?.status === 'failed', 20_000, 100);
      const failed = (await deliveries(down.id)).items[0];
      expect(failed).toMatchObject({ eventId, status: 'failed', responseStatus: 500 });
      expect(failed.attempt).toBeGreaterThanOrEqual(3);
      expect(failed.nextAttemptAt).toBeUndefined();
      // A webhook for other types got nothing.
      expect((await deliveries(other.id)).items).toEqual([]);
    } finally {
      await api.stop();
      await relay.stop();
    }
    expect((await call('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(204);
    expect((await call('GET', `/v1/webhooks/${hook.id}`)).status).toBe(404);
    expect((await call('GET', `/v1/webhooks/${hook.id}/deliveries`)).status).toBe(404);
  });

  it('when bad registrations are sent, then 4000 names the field; production refuses private, loopback and http URLs', async () => {
    const dev = appFor();
    const bad = await dev('POST', '/v1/webhooks', { url: `${base}/x`, events: ['nope.happened'] });
    expect([bad.status, bad.json.code]).toEqual([400, 4000]);
    expect((await dev('POST', '/v1/webhooks', { url: 'ftp://example.com/x', events: ['order.confirmed'] })).json.code).toBe(4000);
    expect((await dev('POST', '/v1/webhooks', { url: 'http://10.1.2.3/x', events: ['order.confirmed'] })).json.code).toBe(4000);
    expect((await dev('GET', '/v1/webhooks/not-a-uuid')).status).toBe(400);

    const prod = appFor({ NODE_ENV: 'production', API_KEYS: 'k' });
    const auth = { authorization: 'Bearer k' };
    for (const url of [`${base}/x`, 'https://127.0.0.1/x', 'https://localhost/x', 'https://10.0.0.7/x', 'https://192.168.1.10/x', 'https://169.254.169.254/latest', 'https://[::1]/x']) {
      const r = await prod('POST', '/v1/webhooks', { url, events: ['order.confirmed'] }, auth);
      expect([url, r.status, r.json.code, r.json.data?.errors?.[0]?.path]).toEqual([url, 400, 4000, 'url']);
    }
    expect(JSON.stringify(await prod('POST', '/v1/webhooks', { url: 'https://10.0.0.7/x', events: ['order.confirmed'] }, auth))).not.toMatch(/stack|at .*\.ts/);
  });
});
