// The public contract (shared/API.md) through the real app over the real Temporal server and every domain's MariaDB
// database: every route, every error code of the envelope, auth on and off, the rate limit, readiness per store, and
// the OpenAPI document.
import { transferRunWorkflowId } from '../../src/workflows/transfer/contract';
import { Validator } from '@seriousme/openapi-schema-validator';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { allStores } from '../../src/migrate';
import { ensureDatabase } from '../../src/platform/db/migrate';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import { openStores } from '../../src/platform/stores';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { account, createAccount, uid } from '../helpers/env';
import { until } from '../helpers/wait';

/** Every store unit the API opens, in the order readiness lists them. */
const units = ['ledger-0', 'ledger-1', 'inventory', 'orders', 'loyalty', 'dtm', 'api'];

/** An environment whose every database URL is `url` (all shards too). */
function allDatabasesAt(url: string, shards = 2): Record<string, string> {
  return {
    LEDGER_DATABASE_URLS: Array.from({ length: shards }, () => url).join(','),
    INVENTORY_DATABASE_URL: url,
    ORDERS_DATABASE_URL: url,
    LOYALTY_DATABASE_URL: url,
    API_DATABASE_URL: url,
    DTM_DATABASE_URL: url,
  };
}

const envelopeKeys = ['code', 'data', 'message', 'traceId'];

describe('HTTP contract', () => {
  let api: ApiEnv;
  let alice: string;
  let bob: string;
  let sku: string;
  beforeAll(async () => {
    api = await createApiEnv();
    alice = (await api.call('POST', '/v1/accounts', { owner: 'alice', currency: 'USD', initialBalance: 5_000_000 })).json.data.id;
    bob = (await api.call('POST', '/v1/accounts', { owner: 'bob', currency: 'USD' })).json.data.id;
    sku = uid('sku-');
    expect((await api.call('POST', '/v1/products', { sku, name: 'Thing', price: 1_200_000, currency: 'USD', stock: 5 })).status).toBe(201);
  });
  afterAll(() => api?.close());

  function expectError(res: { status: number; json: any }, status: number, code: number) {
    expect(res.status).toBe(status);
    expect(Object.keys(res.json).sort()).toEqual(envelopeKeys);
    expect(res.json.code).toBe(code);
    expect(JSON.stringify(res.json)).not.toMatch(/at .*\.ts:\d+|SELECT|INSERT|sequelize/i);
  }

  it('when an account is opened, then it reads back with its balance and an opening ledger entry', async () => {
    const res = await api.call('GET', `/v1/accounts/${alice}`);
    expect(res.json.data).toMatchObject({ id: alice, owner: 'alice', currency: 'USD', balance: 5_000_000, frozen: 0 });
    const entries = await api.call('GET', `/v1/accounts/${alice}/entries?limit=10`);
    expect(entries.json.data.entries).toMatchObject([{ amount: 5_000_000, kind: 'opening' }]);
  });

  it('when ledger entries span pages, then the cursor walks them newest first without overlap', async () => {
    for (const amount of [100, 200, 300]) {
      await api.call('POST', '/v1/transfers', { fromAccountId: alice, toAccountId: bob, amount, currency: 'USD' }, { prefer: 'wait=30' });
    }
    const first = await api.call('GET', `/v1/accounts/${bob}/entries?limit=2`);
    expect(first.json.data.entries.map((e: any) => e.amount)).toEqual([300, 200]);
    const second = await api.call('GET', `/v1/accounts/${bob}/entries?limit=2&cursor=${first.json.data.nextCursor}`);
    expect(second.json.data.entries.map((e: any) => e.amount)).toEqual([100]);
    expect(second.json.data.nextCursor).toBeNull();
  });

  it('when a transfer is posted without Prefer, then it answers 202 with Location at once', async () => {
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: alice, toAccountId: bob, amount: 1, currency: 'USD' });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/transfers/${res.json.data.id}`);
  });

  it('when an order over the threshold is approved over HTTP, then it is CONFIRMED and points are awarded', async () => {
    const customerId = uid('cust-');
    const res = await api.call('POST', '/v1/orders', { customerId, paymentAccountId: alice, items: [{ sku, quantity: 1 }] }, { prefer: 'wait=2' });
    expect(res.status).toBe(202);
    const id = res.json.data.id;
    await until(async () => (await api.call('GET', `/v1/orders/${id}`)).json.data.status === 'AWAITING_APPROVAL');
    const early = await api.call('POST', `/v1/orders/${id}/approve`);
    expect(early.status).toBe(202);
    await until(async () => (await api.call('GET', `/v1/orders/${id}`)).json.data.status === 'CONFIRMED');
    const order = (await api.call('GET', `/v1/orders/${id}`)).json.data;
    expect(order).toMatchObject({ total: 1_200_000, currency: 'USD', items: [{ sku, quantity: 1, price: 1_200_000 }] });
    // The points follow order.confirmed (eventually: the order did not wait for them).
    await until(async () => (await api.call('GET', `/v1/customers/${customerId}/points`)).json.data.balance === 12_000);
    expect((await api.call('GET', `/v1/customers/${customerId}/points`)).json.data).toEqual({ customerId, balance: 12_000 });
    expectError(await api.call('POST', `/v1/orders/${id}/approve`), 409, 4090);
    expectError(await api.call('POST', `/v1/orders/${id}/cancel`, {}), 409, 4090);
    expect((await api.call('GET', `/v1/products/${sku}`)).json.data).toMatchObject({ stock: 4, reserved: 0 });
  });

  it('when an order is cancelled over HTTP while awaiting approval, then it is CANCELLED with the reason', async () => {
    const res = await api.call('POST', '/v1/orders', { customerId: 'c-1', paymentAccountId: alice, items: [{ sku, quantity: 1 }] });
    const id = res.json.data.id;
    await until(async () => (await api.call('GET', `/v1/orders/${id}`)).json.data.status === 'AWAITING_APPROVAL');
    expect((await api.call('POST', `/v1/orders/${id}/cancel`, { reason: 'too expensive' })).status).toBe(202);
    await until(async () => (await api.call('GET', `/v1/orders/${id}`)).json.data.status === 'CANCELLED');
    expect((await api.call('GET', `/v1/orders/${id}`)).json.data).toMatchObject({ reason: 'too expensive', reasonCode: 'OrderCancelled' });
  });

  it('4000: malformed JSON and failed validation list {path, message}', async () => {
    expectError(await api.call('POST', '/v1/transfers', '{"fromAccountId":', {}), 400, 4000);
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: alice, toAccountId: bob, amount: 1.5, currency: 'usd' });
    expectError(res, 400, 4000);
    expect(res.json.data.errors.map((e: any) => e.path).sort()).toEqual(['body.amount', 'body.currency']);
  });

  it('4001: unknown account and currency mismatch are rejected before starting', async () => {
    const unknown = await api.call('POST', '/v1/transfers', { fromAccountId: 'nope', toAccountId: bob, amount: 1, currency: 'USD' });
    expectError(unknown, 422, 4001);
    expect(unknown.json.data.reason).toBe('AccountNotFound');
    const eur = (await api.call('POST', '/v1/accounts', { owner: 'eve', currency: 'EUR' })).json.data.id;
    expectError(await api.call('POST', '/v1/transfers', { fromAccountId: alice, toAccountId: eur, amount: 1, currency: 'USD' }), 422, 4001);
    expectError(await api.call('POST', '/v1/orders', { customerId: 'c', paymentAccountId: alice, items: [{ sku: 'no-such-sku', quantity: 1 }] }), 422, 4001);
  });

  it('4040: unknown resources and routes', async () => {
    expectError(await api.call('GET', '/v1/transfers/no-such'), 404, 4040);
    expectError(await api.call('GET', '/v1/orders/no-such'), 404, 4040);
    expectError(await api.call('GET', '/v1/accounts/no-such'), 404, 4040);
    expectError(await api.call('GET', '/v1/products/no-such'), 404, 4040);
    expectError(await api.call('POST', '/v1/orders/no-such/approve'), 404, 4040);
    expectError(await api.call('GET', '/v1/nothing-here'), 404, 4040);
  });

  it('4090: an existing product sku', async () => {
    expectError(await api.call('POST', '/v1/products', { sku, name: 'Again', price: 1, currency: 'USD', stock: 1 }), 409, 4090);
  });

  it('4130: a body over the limit', async () => {
    expectError(await api.call('POST', '/v1/accounts', { owner: 'x'.repeat(70 * 1024), currency: 'USD' }), 413, 4130);
  });

  it('traceId echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const good = await api.call('GET', '/healthz', undefined, { 'x-request-id': 'trace-123' });
    expect(good.json.traceId).toBe('trace-123');
    const bad = await api.call('GET', '/healthz', undefined, { 'x-request-id': 'bad id\u0007' });
    expect(bad.json.traceId).not.toBe('bad id\u0007');
    expect(bad.headers.get('x-request-id')).toBe(bad.json.traceId);
  });

  it('healthz, readyz and metrics answer; metrics count requests and flows', async () => {
    expect((await api.call('GET', '/healthz')).status).toBe(200);
    const ready = await api.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.data).toEqual({
      status: 'ready',
      checks: { database: 'up', databases: Object.fromEntries(units.map((u) => [u, 'up'])), temporal: 'up' },
    });
    const metrics = await api.app.request('/metrics');
    const text = await metrics.text();
    expect(text).toMatch(/sagaflow_http_requests_total\{method="POST",route="\/v1\/transfers",status="202"\} \d+/);
    expect(text).toMatch(/sagaflow_flows_total\{type="transfer",outcome="started"\} \d+/);
  });

  it('the OpenAPI document is valid OpenAPI 3.1 and every path in it answers something other than 404', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    for (const [path, methods] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const concrete = path.replace(/\{[^}]+\}/g, method === 'get' && path.startsWith('/v1/accounts') ? alice : 'x');
        const res = await api.call(method.toUpperCase(), concrete, method === 'post' ? {} : undefined);
        expect(res.status === 404 && res.json.message?.startsWith('no route'), `${method} ${path}`).toBe(false);
      }
    }
    expect((await api.app.request('/docs')).headers.get('content-type')).toMatch(/text\/html/);
    expect((await api.app.request('/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
  });
});

describe('HTTP contract: auth, rate limit and unavailable dependencies', () => {
  let api: ApiEnv;
  beforeAll(async () => {
    api = await createApiEnv({ API_KEYS: 'key-one,key-two', RATE_LIMIT_PER_SECOND: '2', RATE_LIMIT_BURST: '3' }, { worker: false });
  });
  afterAll(() => api?.close());

  it('4010: no key, a wrong key; a right key passes; health stays open', async () => {
    const body = { owner: 'a', currency: 'USD' };
    const none = await api.call('POST', '/v1/accounts', body);
    expect(none.status).toBe(401);
    expect(none.json.code).toBe(4010);
    expect((await api.call('POST', '/v1/accounts', body, { authorization: 'Bearer nope' })).json.code).toBe(4010);
    expect((await api.call('POST', '/v1/accounts', body, { authorization: 'Bearer key-two' })).status).toBe(201);
    expect((await api.call('GET', '/healthz')).status).toBe(200);
  });

  it('4290: the bucket empties, answers Retry-After, and refills', async () => {
    await sleep(2_000);
    const auth = { authorization: 'Bearer key-one' };
    const statuses: number[] = [];
    let limited: { status: number; headers: Headers; json: any } | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await api.call('GET', '/v1/products/none', undefined, auth);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
    expect(limited?.json.code).toBe(4290);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await sleep(1_100);
    expect((await api.call('GET', '/v1/products/none', undefined, auth)).status).toBe(404);
  });

  it('5030: Temporal and every database unavailable; readyz 503 naming each store down', async () => {
    const config = loadConfig({ ...process.env, ...allDatabasesAt('mysql://u:p@127.0.0.1:1/sagaflow_none'), LOG_LEVEL: 'silent' });
    const stores = openStores(allStores(config), config.db.pool);
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    try {
      const app = createApp({ config, stores, temporal, log: logger(config), metrics: createMetrics() });
      const res = await app.request('/v1/accounts/acc-1');
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).code).toBe(5030);
      const ready = await app.request('/readyz');
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as any).data.checks).toEqual({
        database: 'down',
        databases: Object.fromEntries(units.map((u) => [u, 'down'])),
        temporal: 'down',
      });
    } finally {
      await stores.close();
    }
  });

  it('5030: when one domain database is down, then readyz names that store and the other services still answer', async () => {
    const config = loadConfig({ ...process.env, LOYALTY_DATABASE_URL: 'mysql://u:p@127.0.0.1:1/sagaflow_loyalty', LOG_LEVEL: 'silent' });
    const stores = openStores(allStores(config), config.db.pool);
    try {
      const app = createApp({ config, stores, temporal: api.env.client, log: logger(config), metrics: createMetrics() });
      const ready = await app.request('/readyz');
      expect(ready.status).toBe(503);
      const checks = ((await ready.json()) as any).data.checks;
      expect(checks).toEqual({
        database: 'down',
        databases: Object.fromEntries(units.map((u) => [u, u === 'loyalty' ? 'down' : 'up'])),
        temporal: 'up',
      });
      expect((await app.request('/v1/customers/c-1/points')).status).toBe(503);
      expect((await app.request('/v1/accounts/acc-none')).status).toBe(404); // the ledger's shards are up
      expect((await app.request('/v1/products/sku-none')).status).toBe(404); // and so is the inventory
    } finally {
      await stores.close();
    }
  });

  it('5000: an internal error says nothing about its cause', async () => {
    // A real, reachable database without our schema (on the orders database's server): every query fails with an SQL
    // error that must not leak.
    const url = new URL(loadConfig().db.urls.orders);
    url.pathname = `${url.pathname}_empty`;
    await ensureDatabase(url.toString());
    const config = loadConfig({ ...process.env, ...allDatabasesAt(url.toString()), LOG_LEVEL: 'silent' });
    const stores = openStores(allStores(config), config.db.pool);
    try {
      const app = createApp({ config, stores, temporal: api.env.client, log: logger(config), metrics: createMetrics() });
      for (const path of ['/v1/accounts/acc-1', '/v1/products/sku-1', '/v1/orders/ord-1', '/v1/transfers/t-1']) {
        const res = await app.request(path);
        const json = (await res.json()) as any;
        expect(res.status, path).toBe(500);
        expect(json).toMatchObject({ code: 5000, message: 'internal error', data: null });
        expect(JSON.stringify(json)).not.toMatch(/accounts|products|orders|transfers|SELECT|ER_/);
      }
    } finally {
      await stores.close();
    }
  });
});

describe('HTTP contract: production mode', () => {
  let api: ApiEnv;
  const auth = { authorization: 'Bearer prod-key' };
  beforeAll(async () => {
    api = await createApiEnv({ NODE_ENV: 'production', API_KEYS: 'prod-key' }, { worker: false });
  });
  afterAll(() => api?.close());

  it('when a money-moving POST has no Idempotency-Key in production, then it is 4000 and starts nothing; with a key it starts', async () => {
    const from = await createAccount(api, 1_000, 'USD', { shard: 0 });
    const to = await createAccount(api, 0, 'USD', { shard: 1 });
    const body = { fromAccountId: from, toAccountId: to, amount: 100, currency: 'USD' };
    for (const [path, payload] of [
      ['/v1/transfers', body],
      ['/v1/tips', { fromAccountId: from, customerId: 'c-prod', amount: 100, currency: 'USD' }],
    ] as const) {
      const res = await api.call('POST', path, payload, auth);
      expect(res.status, path).toBe(400);
      expect(res.json.code).toBe(4000);
      expect(res.json.data.errors).toEqual([{ path: 'header.idempotency-key', message: expect.stringContaining('second flow') }]);
    }
    const flows = await api.env.client.workflow.count(`TaskQueue = '${api.config.temporal.taskQueuePrefix}-flows'`);
    expect(flows.count).toBe(0);
    const key = uid('prod-');
    const started = await api.call('POST', '/v1/transfers', body, { ...auth, 'idempotency-key': key });
    expect(started.status).toBe(202);
    await api.env.client.workflow.getHandle(transferRunWorkflowId(started.json.data.id)).terminate('test over: no worker serves this prefix');
    expect(await account(api, from)).toEqual({ balance: 1_000, frozen: 0 });
  });
});
