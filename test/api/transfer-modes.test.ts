// Both transfer modes. Batched (TRANSFER_MODE=batched, the default): the transfers one API process receives while a batch starts
// share one transferBatch run, and each one stays a transfer of its own — its id, its steps, its outcome, its cancel,
// found by TransferId. Single: a workflow per transfer, Prefer: wait in one update-with-start call. Over the real app,
// Temporal server and both MariaDB servers.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/activities/ledger/contract';
import { batchOfTransfer, transferBatchWorkflowId, transferWorkflowId } from '../../src/workflows/transfer/contract';
import { createTransferBatcher } from '../../src/workflows/transfer/batcher';
import { createMetrics } from '../../src/platform/http/metrics';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { account, createAccount, entriesOf, moneyIn, uid } from '../helpers/env';
import { until } from '../helpers/wait';

describe('/v1/transfers in batched mode', () => {
  let api: ApiEnv;
  beforeAll(async () => {
    api = await createApiEnv({ TRANSFER_MODE: 'batched' });
  });
  afterAll(() => api?.close());

  const post = (body: object, headers: Record<string, string> = { prefer: 'wait=30' }) => api.call('POST', '/v1/transfers', body, headers);

  it('when 40 transfers arrive at once, then they share fewer runs and each completes once with its own id and steps', async () => {
    const sources = await Promise.all(Array.from({ length: 40 }, (_, i) => createAccount(api, 1_000, 'USD', { shard: i % 2 })));
    const to = await createAccount(api, 0, 'USD', { shard: 1 });
    const results = await Promise.all(sources.map((from, i) => post({ fromAccountId: from, toAccountId: to, amount: 10 + i, currency: 'USD' })));
    expect(results.map((r) => [r.status, r.json.data.status])).toEqual(results.map(() => [200, 'COMPLETED']));
    const ids = results.map((r) => r.json.data.id as string);
    expect(new Set(ids).size).toBe(40);
    const batches = new Set(ids.map((id) => batchOfTransfer(id)));
    expect(batches.has(undefined)).toBe(false);
    expect(batches.size).toBeLessThan(40);
    for (const r of results) {
      expect(r.json.data.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
        ['debit', 'done'],
        ['credit', 'done'],
        ['record-outcome', 'done'],
      ]);
    }
    // GET reads each back from its batch; money moved exactly once per transfer.
    const got = await api.call('GET', `/v1/transfers/${ids[7]}`);
    expect(got.json.data).toMatchObject({ id: ids[7], status: 'COMPLETED', amount: 17, fromAccountId: sources[7] });
    expect(got.json.data.steps).toHaveLength(3);
    expect(await account(api, to)).toMatchObject({ balance: 40 * 10 + (39 * 40) / 2 });
    expect(await moneyIn(api, [...sources, to])).toBe(40 * 1_000);
    for (const [i, from] of sources.entries()) expect(await entriesOf(api, from, `transfer-${ids[i]}`)).toEqual([{ step: 'debit', amount: -(10 + i) }]);
  });

  it('when one transfer of a batch is rejected, then only it is compensated and the others complete', async () => {
    const rich = await Promise.all([0, 1, 2].map(() => createAccount(api, 1_000, 'USD', { shard: 0 })));
    const poor = await createAccount(api, 5, 'USD', { shard: 0 });
    const to = await createAccount(api, 0, 'USD', { shard: 1 });
    const [a, b, c, d] = await Promise.all([
      post({ fromAccountId: rich[0], toAccountId: to, amount: 100, currency: 'USD' }),
      post({ fromAccountId: poor, toAccountId: to, amount: 100, currency: 'USD' }),
      post({ fromAccountId: rich[1], toAccountId: to, amount: 100, currency: 'USD' }),
      post({ fromAccountId: rich[2], toAccountId: to, amount: 100, currency: 'USD' }),
    ]);
    expect([a, b, c, d].map((r) => r.json.data.status)).toEqual(['COMPLETED', 'COMPENSATED', 'COMPLETED', 'COMPLETED']);
    expect(b.json.data.reasonCode).toBe('InsufficientFunds');
    expect(await account(api, to)).toMatchObject({ balance: 300 });
    expect(await account(api, poor)).toMatchObject({ balance: 5, frozen: 0 });
  });

  it('when a batched transfer is listed by TransferId, then its batch run is found', async () => {
    const from = await createAccount(api, 1_000, 'USD', { shard: 0 });
    const to = await createAccount(api, 0, 'USD', { shard: 1 });
    const { json } = await post({ fromAccountId: from, toAccountId: to, amount: 1, currency: 'USD' });
    const id = json.data.id as string;
    let found: string[] = [];
    await until(async () => {
      found = [];
      for await (const w of api.env.client.workflow.list({ query: `TransferId = '${id}'` })) found.push(w.workflowId);
      return found.length > 0;
    }, 10_000);
    expect(found).toEqual([transferBatchWorkflowId(batchOfTransfer(id)!)]);
  });

  it('when a retry brings a transfer whose batch never started, then the batch starts with it, once', async () => {
    const from = await createAccount(api, 1_000, 'USD', { shard: 0 });
    const to = await createAccount(api, 0, 'USD', { shard: 1 });
    const shards = api.stores.of('ledger').length;
    const batch = randomUUID();
    let n = 0;
    while (shardOf(`${batch}.${n}`, shards) !== shardOf(from, shards)) n++;
    const transfer = { id: `${batch}.${n}`, fromAccountId: from, toAccountId: to, amount: 250, currency: 'USD', memo: null };
    const deps = { config: api.config, stores: api.stores, temporal: api.env.client, metrics: createMetrics() } as Parameters<typeof createTransferBatcher>[0];
    const batcher = createTransferBatcher(deps);
    await batcher.rejoin(transfer, 0);
    await batcher.rejoin(transfer, 0); // a second retry joins the same run; the batch ignores the duplicate
    await until(async () => (await api.call('GET', `/v1/transfers/${transfer.id}`)).json.data?.status === 'COMPLETED', 30_000);
    expect(await account(api, from)).toMatchObject({ balance: 750 });
    expect(await account(api, to)).toMatchObject({ balance: 250 });
  });

  it('when Idempotency-Key repeats across concurrent batched POSTs, then one transfer runs', async () => {
    const from = await createAccount(api, 1_000, 'USD', { shard: 1 });
    const to = await createAccount(api, 0, 'USD', { shard: 0 });
    const key = uid('k-');
    const body = { fromAccountId: from, toAccountId: to, amount: 100, currency: 'USD' };
    const results = await Promise.all(Array.from({ length: 20 }, () => post(body, { 'idempotency-key': key, prefer: 'wait=30' })));
    expect(new Set(results.map((r) => r.json.data.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.json.data.status))).toEqual(new Set(['COMPLETED']));
    expect(await account(api, from)).toMatchObject({ balance: 900 });
  });
});

describe('/v1/transfers in single mode', () => {
  let api: ApiEnv;
  beforeAll(async () => {
    api = await createApiEnv({ TRANSFER_MODE: 'single' });
  });
  afterAll(() => api?.close());

  it('when a transfer is posted with Prefer: wait, then one update-with-start answers 200 COMPLETED with steps, and its retry answers the same', async () => {
    const from = await createAccount(api, 1_000, 'USD', { shard: 0 });
    const to = await createAccount(api, 0, 'USD', { shard: 1 });
    const key = uid('k-');
    const body = { fromAccountId: from, toAccountId: to, amount: 300, currency: 'USD' };
    const first = await api.call('POST', '/v1/transfers', body, { prefer: 'wait=30', 'idempotency-key': key });
    expect(first.status).toBe(200);
    expect(first.json.data).toMatchObject({ status: 'COMPLETED', amount: 300 });
    expect(first.json.data.steps.map((s: { name: string }) => s.name)).toEqual(['debit', 'credit', 'record-outcome']);
    const id = first.json.data.id as string;
    expect(batchOfTransfer(id)).toBeUndefined();
    const described = await api.env.client.workflow.getHandle(transferWorkflowId(id)).describe();
    expect(described.type).toBe('transferMoney');
    // The run closed: the retry joins nothing new and reads the result.
    const again = await api.call('POST', '/v1/transfers', body, { prefer: 'wait=30', 'idempotency-key': key });
    expect([again.status, again.json.data.id, again.json.data.status]).toEqual([200, id, 'COMPLETED']);
    expect(await account(api, from)).toMatchObject({ balance: 700 });
    // A finished transfer cannot be cancelled.
    const cancel = await api.call('POST', `/v1/transfers/${id}/cancel`);
    expect([cancel.status, cancel.json.code]).toEqual([409, 4090]);
    expect((await api.call('POST', `/v1/transfers/${randomUUID()}/cancel`)).status).toBe(404);
  });
});
