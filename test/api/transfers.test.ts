// The transfer routes through the real app, Temporal server and the ledger's MariaDB shards (on two servers): a
// transfer's id is drawn onto its source account's shard, and every read goes to the one shard that holds its row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/activities/ledger/contract';
import { transferWorkflowId } from '../../src/workflows/transfer/contract';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { account, createAccount, ledgerDb, moneyIn, uid } from '../helpers/env';

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
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 2_500, currency: 'USD' }, { prefer: 'wait=30' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ code: 200, data: { status: 'COMPLETED', amount: 2_500 } });
    expect(res.json.traceId).toBe(res.headers.get('x-request-id'));
    expect(res.json.data.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['debit', 'done'],
      ['credit', 'done'],
      ['record-outcome', 'done'],
    ]);
    const got = await api.call('GET', `/v1/transfers/${res.json.data.id}`);
    expect(got.json.data.status).toBe('COMPLETED');
  });

  it('when funds are insufficient, then the transfer is COMPENSATED with the reason', async () => {
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 1_000_000, currency: 'USD' }, { prefer: 'wait=30' });
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
    const done = await api.call('POST', '/v1/transfers', body, { 'idempotency-key': key, prefer: 'wait=30' });
    expect(done.json.data.status).toBe('COMPLETED');
    expect((await api.call('GET', `/v1/accounts/${a}`)).json.data.balance).toBe(900);
    const other = await api.call('POST', '/v1/transfers', { ...body, amount: 101 }, { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expect(other.json.code).toBe(4090);
  });

  it('when the accounts live on different shards, then a transfer completes with Prefer: wait and every read answers from its shard', async () => {
    const shards = api.stores.of('ledger').length;
    expect(shards).toBeGreaterThanOrEqual(2);
    for (const [fromShard, toShard] of [
      [0, 1],
      [1, 0],
    ]) {
      const source = await createAccount(api, 10_000, 'USD', { shard: fromShard });
      const sink = await createAccount(api, 0, 'USD', { shard: toShard });
      expect(ledgerDb(api, source)).not.toBe(ledgerDb(api, sink));

      const res = await api.call('POST', '/v1/transfers', { fromAccountId: source, toAccountId: sink, amount: 1_250, currency: 'USD' }, { prefer: 'wait=30' });
      expect(res.status).toBe(200);
      expect(res.json.data).toMatchObject({ status: 'COMPLETED', fromAccountId: source, toAccountId: sink, amount: 1_250 });
      const id: string = res.json.data.id;
      // The id was drawn onto the source's shard; the row is there and nowhere else.
      expect(shardOf(id, shards)).toBe(fromShard);
      const [here] = await ledgerDb(api, source).query('SELECT status FROM transfers WHERE id = ?', { replacements: [id] });
      expect(here).toEqual([{ status: 'COMPLETED' }]);
      const [there] = await ledgerDb(api, sink).query('SELECT id FROM transfers WHERE id = ?', { replacements: [id] });
      expect(there).toEqual([]);

      const got = await api.call('GET', `/v1/transfers/${id}`);
      expect(got.status).toBe(200);
      expect(got.json.data).toMatchObject({ id, status: 'COMPLETED', fromAccountId: source, toAccountId: sink, amount: 1_250 });
      expect(got.json.data.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
        ['debit', 'done'],
        ['credit', 'done'],
        ['record-outcome', 'done'],
      ]);

      const [from, to] = [await api.call('GET', `/v1/accounts/${source}`), await api.call('GET', `/v1/accounts/${sink}`)];
      expect([from.status, to.status]).toEqual([200, 200]);
      expect(from.json.data).toMatchObject({ id: source, balance: 8_750, frozen: 0 });
      expect(to.json.data).toMatchObject({ id: sink, balance: 1_250, frozen: 0 });
      expect(await account(api, source)).toEqual({ balance: 8_750, frozen: 0 });
      expect(await moneyIn(api, [source, sink])).toBe(10_000);

      const flowId = transferWorkflowId(id);
      const fromEntries = await api.call('GET', `/v1/accounts/${source}/entries`);
      expect(fromEntries.status).toBe(200);
      expect(fromEntries.json.data.entries.map((e: { flowId: string; amount: number; kind: string }) => [e.flowId, e.amount])).toEqual([
        [flowId, -1_250],
        [`account-${source}`, 10_000],
      ]);
      const toEntries = await api.call('GET', `/v1/accounts/${sink}/entries`);
      expect(toEntries.status).toBe(200);
      expect(toEntries.json.data.entries.map((e: { flowId: string; amount: number }) => [e.flowId, e.amount])).toEqual([[flowId, 1_250]]);
    }
  });

  it.each([
    ['tcc', 'confirmed', ['hold-source:try', 'pending-credit:try', 'hold-source:confirm', 'pending-credit:confirm', 'record-outcome']],
    ['xa', 'committed', null],
  ] as const)('when a transfer asks for consistency %s, then it runs in that mode and POST and GET show the mode and its phase', async (mode, phase, steps) => {
    const a = (await api.call('POST', '/v1/accounts', { owner: 'carol', currency: 'USD', initialBalance: 5_000 })).json.data.id;
    const b = (await api.call('POST', '/v1/accounts', { owner: 'dave', currency: 'USD' })).json.data.id;
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: a, toAccountId: b, amount: 1_200, currency: 'USD', consistency: mode }, { prefer: 'wait=30' });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ status: 'COMPLETED', consistency: mode, phase });
    if (steps) expect(res.json.data.steps.map((s: { name: string }) => s.name)).toEqual(steps);
    const got = await api.call('GET', `/v1/transfers/${res.json.data.id}`);
    expect(got.json.data).toMatchObject({ status: 'COMPLETED', consistency: mode, phase });
    expect(await account(api, a)).toEqual({ balance: 3_800, frozen: 0 });
    expect(await account(api, b)).toEqual({ balance: 1_200, frozen: 0 });
  });

  it('when a transfer names no mode, then the configured default (saga here) is shown', async () => {
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 10, currency: 'USD' }, { prefer: 'wait=30' });
    expect(res.json.data).toMatchObject({ status: 'COMPLETED', consistency: 'saga', phase: 'credited' });
  });

  it('when a transfer names an unknown mode, then it answers 4000 and nothing is written', async () => {
    const before = await moneyIn(api, [from, to]);
    const balance = (await account(api, from))!.balance;
    const res = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 10, currency: 'USD', consistency: '2pc' }, { prefer: 'wait=5' });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe(4000);
    expect(res.json.data.errors.map((e: { path: string }) => e.path)).toEqual(['body.consistency']);
    expect(await moneyIn(api, [from, to])).toBe(before);
    expect((await account(api, from))!.balance).toBe(balance);
  });

  it('when a transfer id is unknown on its shard, then GET answers 404', async () => {
    const res = await api.call('GET', `/v1/transfers/${uid('t-')}`);
    expect(res.status).toBe(404);
    expect(res.json.code).toBe(4040);
  });
});
