// The transfer routes through the real app, Temporal server and MariaDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { uid } from '../helpers/env';

describe('/v1/transfers', () => {
  let api: ApiEnv;
  let from: string;
  let to: string;
  beforeAll(async () => {
    api = await createApiEnv();
    from = (await api.call('POST', '/v1/accounts', { owner: 'alice', currency: 'USD', initialBalance: 10_000 })).json.data.id;
    to = (await api.call('POST', '/v1/accounts', { owner: 'bob', currency: 'USD' })).json.data.id;
  });
  afterAll(() => api?.close());

  it('when a transfer is posted with Prefer: wait, then it answers 200 COMPLETED with steps', async () => {
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 2_500, currency: 'USD' }, { prefer: 'wait=10' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ code: 200, data: { status: 'COMPLETED', amount: 2_500 } });
    expect(res.json.traceId).toBe(res.headers.get('x-request-id'));
    expect(res.json.data.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['debit', 'done'],
      ['credit', 'done'],
    ]);
    const got = await api.call('GET', `/v1/transfers/${res.json.data.id}`);
    expect(got.json.data.status).toBe('COMPLETED');
  });

  it('when funds are insufficient, then the transfer is COMPENSATED with the reason', async () => {
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 1_000_000, currency: 'USD' }, { prefer: 'wait=10' });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ status: 'COMPENSATED', reasonCode: 'InsufficientFunds' });
  });

  it('when 50 concurrent POSTs share one Idempotency-Key, then exactly one flow and one debit happen', async () => {
    const a = (await api.call('POST', '/v1/accounts', { owner: 'carol', currency: 'USD', initialBalance: 1_000 })).json.data.id;
    const key = uid('k-');
    const body = { fromAccountId: a, toAccountId: to, amount: 100, currency: 'USD' };
    const results = await Promise.all(Array.from({ length: 50 }, () => api.call('POST', '/v1/transfers', body, { 'idempotency-key': key })));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([202]));
    expect(new Set(results.map((r) => r.json.data.id)).size).toBe(1);
    const done = await api.call('POST', '/v1/transfers', body, { 'idempotency-key': key, prefer: 'wait=10' });
    expect(done.json.data.status).toBe('COMPLETED');
    expect((await api.call('GET', `/v1/accounts/${a}`)).json.data.balance).toBe(900);
    const other = await api.call('POST', '/v1/transfers', { ...body, amount: 101 }, { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expect(other.json.code).toBe(4090);
  });
});
