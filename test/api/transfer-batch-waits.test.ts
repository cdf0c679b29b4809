// Batched transfers through the real app, Temporal server and both MariaDB servers, where a batch is large or its start
// went wrong: every Prefer: wait caller of a batch of 40 with slow steps gets its answer (Temporal allows only 10
// updates in flight per workflow, so the API may not send one per caller), and a transfer whose key was claimed for a
// batch that closed without it still runs and is found by its id.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActivityInterceptorsFactory, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/activities/ledger/contract';
import { claimFlowId } from '../../src/platform/http/idempotency';
import { batchedTransferId, batchOfTransfer, transferBatchWorkflowId } from '../../src/workflows/transfer/contract';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { account, createAccount, startWorkers, uid } from '../helpers/env';
import { until } from '../helpers/wait';

/** Credits on ledger shard 0 take 25 s (longer than the callers wait); those on shard 1 are as fast as usual. */
const slowCreditsOnShard0: ActivityInterceptorsFactory = (actx) => ({
  inbound: {
    async execute(input, next) {
      if (actx.info.activityType === 'creditDestinations' && actx.info.taskQueue.endsWith('-ledger-0')) await sleep(25_000);
      return next(input);
    },
  },
});

describe('/v1/transfers in batched mode: large batches and batches that went wrong', () => {
  let api: ApiEnv;
  let workers: Worker[];
  let running: Promise<void>[];
  beforeAll(async () => {
    const env = { TRANSFER_MODE: 'batched', TRANSFER_BATCH_MAX_SIZE: '40', TRANSFER_BATCH_LINGER_MS: '1000', TRANSFER_BATCH_LINGER_FROM: '1', STEP_START_TO_CLOSE_MS: '60000' };
    api = await createApiEnv(env, { worker: false });
    workers = await startWorkers(api, api.config.temporal.taskQueuePrefix, { overrides: { interceptors: { activity: [slowCreditsOnShard0] } } });
    running = workers.map((w) => w.run());
  });
  afterAll(async () => {
    for (const w of workers ?? []) w.shutdown();
    await Promise.all(running ?? []);
    await api?.close();
  });

  const post = (body: object, headers: Record<string, string>) => api.call('POST', '/v1/transfers', body, headers);

  it('when 40 transfers of one batch wait with Prefer: wait and half of them are slow, then every fast one gets 200 COMPLETED in time', async () => {
    // Sources on shard 1; 20 pay into shard 1 (fast credits), 20 into shard 0 (credits slower than the wait).
    const [fast, slow] = [await createAccount(api, 0, 'USD', { shard: 1 }), await createAccount(api, 0, 'USD', { shard: 0 })];
    const sources = await Promise.all(Array.from({ length: 40 }, () => createAccount(api, 1_000, 'USD', { shard: 1 })));
    // A first transfer keeps this process busy, so the next batch lingers for company and gathers the 40.
    const first = post({ fromAccountId: await createAccount(api, 1_000, 'USD', { shard: 1 }), toAccountId: fast, amount: 1, currency: 'USD' }, { prefer: 'wait=12' });
    await sleep(300);
    const results = await Promise.all(
      sources.map((from, i) => post({ fromAccountId: from, toAccountId: i % 2 ? slow : fast, amount: 10, currency: 'USD' }, { prefer: 'wait=12' })),
    );
    await first;
    const sizes = new Map<string, number>();
    for (const r of results) if (r.json.data?.id) sizes.set(batchOfTransfer(r.json.data.id)!, (sizes.get(batchOfTransfer(r.json.data.id)!) ?? 0) + 1);
    expect(Math.max(...sizes.values())).toBeGreaterThan(10); // more waiters on one batch than updates Temporal lets in flight
    const seen = (i: number) => [results[i].status, results[i].json.data?.status ?? results[i].json.code];
    expect(sources.map((_, i) => (i % 2 ? null : seen(i)))).toEqual(sources.map((_, i) => (i % 2 ? null : [200, 'COMPLETED'])));
    expect(sources.map((_, i) => (i % 2 ? seen(i) : null))).toEqual(sources.map((_, i) => (i % 2 ? [202, 'RUNNING'] : null)));
    // None of them waited through an update of its own (Temporal admits 10 in flight per workflow): the batch's
    // history holds no update at all.
    const largest = [...sizes.entries()].sort((x, y) => y[1] - x[1])[0][0];
    const history = await api.env.client.workflow.getHandle(transferBatchWorkflowId(largest)).fetchHistory();
    expect((history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length).toBe(0);
    // The slow ones complete later, each found by its id.
    const last = results[39].json.data.id;
    await until(async () => (await api.call('GET', `/v1/transfers/${last}`)).json.data?.status === 'COMPLETED', 60_000);
  });

  it('when a batch closed without a transfer whose key was claimed for it, then its retry runs it and GET finds it COMPLETED', async () => {
    // The API claimed two keys for one batch and stopped before starting it (or the start failed, 503).
    const from = await createAccount(api, 1_000, 'USD', { shard: 0 });
    const to = await createAccount(api, 0, 'USD', { shard: 1 });
    const batch = randomUUID();
    const shards = api.stores.of('ledger').length;
    const ids: string[] = [];
    for (let n = 0; ids.length < 2; n++) if (shardOf(batchedTransferId(batch, n), shards) === shardOf(from, shards)) ids.push(batchedTransferId(batch, n));
    const body = { fromAccountId: from, toAccountId: to, amount: 100, currency: 'USD' };
    const keys = [uid('k-'), uid('k-')];
    for (const [i, key] of keys.entries()) {
      const claim = { principal: 'anonymous', key, resource: 'transfer', body: { ...body, consistency: 'saga' }, retentionHours: 24, newId: () => ids[i] };
      expect(await claimFlowId(api.stores.db('api'), claim)).toBe(ids[i]);
    }
    // The first member's retry starts the batch with itself only; the batch runs it and closes.
    const a = await post(body, { 'idempotency-key': keys[0], prefer: 'wait=30' });
    expect([a.status, a.json.data.id, a.json.data.status]).toEqual([200, ids[0], 'COMPLETED']);
    // The second member's retry finds the batch closed without it.
    const b = await post(body, { 'idempotency-key': keys[1], prefer: 'wait=30' });
    expect([b.status, b.json.data.id, b.json.data.status]).toEqual([200, ids[1], 'COMPLETED']);
    const got = await api.call('GET', `/v1/transfers/${ids[1]}`);
    expect([got.status, got.json.data?.status]).toEqual([200, 'COMPLETED']);
    expect(await account(api, from)).toMatchObject({ balance: 800 });
    expect(await account(api, to)).toMatchObject({ balance: 200 });
  });
});
