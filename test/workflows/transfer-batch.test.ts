// transferBatch through the real workers, server and both MariaDB servers: the transfers of one batch run side by
// side, and each is on its own — one's cancellation undoes only that one while the others go on.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/activities/ledger/contract';
import {
  batchedTransferId,
  batchedTransferQuery,
  cancelTransferSignal,
  type BatchedTransfer,
  type TransferBatchResult,
} from '../../src/workflows/transfer/contract';
import { account, createAccount, createFlowsEnv, entriesOf, startWorkers, withWorker, startTransferBatch, type FlowsEnv } from '../helpers/env';
import { until } from '../helpers/wait';

describe('transferBatch', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  /** Transfers of one batch, each id drawn onto its source's shard. */
  function drafts(batchId: string, list: Array<[string, string, number]>): BatchedTransfer[] {
    const shards = ctx.stores.of('ledger').length;
    let n = 0;
    return list.map(([fromAccountId, toAccountId, amount]) => {
      while (shardOf(batchedTransferId(batchId, n), shards) !== shardOf(fromAccountId, shards)) n++;
      return { id: batchedTransferId(batchId, n++), fromAccountId, toAccountId, amount, currency: 'USD', memo: null };
    });
  }

  /**
   * Two sources on shard 0 (1,000 each) paying 100 and 200 to one destination on shard 1: run with workers for the
   * flows and shard 0 only, both are debited and their credits wait for a shard nobody serves.
   */
  async function twoIntoUnservedShard() {
    const [a, b] = [await createAccount(ctx, 1_000, 'USD', { shard: 0 }), await createAccount(ctx, 1_000, 'USD', { shard: 0 })];
    const dest = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const batchId = randomUUID();
    const transfers = drafts(batchId, [
      [a, dest, 100],
      [b, dest, 200],
    ]);
    return { a, b, dest, batchId, transfers };
  }

  it('when one transfer of a batch is cancelled before its credit, then only it is undone and the other completes', async () => {
    // t1 pays into shard 1, which nobody serves yet (its credit waits alone in its own call); t2 stays on shard 0.
    const [a, b] = [await createAccount(ctx, 1_000, 'USD', { shard: 0 }), await createAccount(ctx, 1_000, 'USD', { shard: 0 })];
    const [far, near] = [await createAccount(ctx, 0, 'USD', { shard: 1 }), await createAccount(ctx, 0, 'USD', { shard: 0 })];
    const batchId = randomUUID();
    const [t1, t2] = drafts(batchId, [
      [a, far, 100],
      [b, near, 200],
    ]);
    const result = await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const handle = await startTransferBatch(ctx, { taskQueue, topology }, batchId, [t1, t2]);
        // Debited, and its credit waiting for shard 1.
        await until(async () => (await handle.query(batchedTransferQuery, t1.id))?.steps.some((st) => st.name === 'credit' && st.state === 'running') ?? false);
        await handle.signal(cancelTransferSignal, t1.id);
        return (await handle.result()) as TransferBatchResult;
      },
      { units: () => ['flows', 'ledger-0'] },
    );
    expect(result.transfers.map((t) => [t.id, t.status])).toEqual([
      [t1.id, 'COMPENSATED'],
      [t2.id, 'COMPLETED'],
    ]);
    expect(result.transfers[0].steps.map((s) => [s.name, s.state])).toEqual([
      ['debit', 'compensated'],
      ['credit', 'failed'],
      ['record-outcome', 'done'],
    ]);
    expect(await account(ctx, a)).toEqual({ balance: 1_000, frozen: 0 });
    expect(await account(ctx, b)).toEqual({ balance: 800, frozen: 0 });
    expect(await account(ctx, near)).toEqual({ balance: 200, frozen: 0 });
    expect(await account(ctx, far)).toEqual({ balance: 0, frozen: 0 });
    // Each transfer's ledger entries carry its own flow id, not the batch's.
    expect(await entriesOf(ctx, a, `transfer-${t1.id}`)).toEqual([
      { step: 'debit', amount: -100 },
      { step: 'refund-debit', amount: 100 },
    ]);
    expect(await entriesOf(ctx, near, `transfer-${t2.id}`)).toEqual([{ step: 'credit', amount: 200 }]);
  });

  it('when one transfer is cancelled while its credit shares a call with another, then the call is not cancelled and both complete', async () => {
    const { a, b, dest, batchId, transfers } = await twoIntoUnservedShard();
    const [t1, t2] = transfers;
    const result = await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const handle = await startTransferBatch(ctx, { taskQueue, topology }, batchId, transfers);
        // Both debited; their credits wait, in one call, for shard 1, which nobody serves yet.
        await until(async () => (await account(ctx, a))?.balance === 900 && (await account(ctx, b))?.balance === 800);
        await handle.signal(cancelTransferSignal, t1.id);
        await new Promise((r) => setTimeout(r, 1_000));
        const { raw } = await handle.describe();
        expect((raw.pendingActivities ?? []).map((p) => p.activityType?.name)).toEqual(['creditDestinations']);
        expect((raw.pendingActivities ?? []).map((p) => p.state)).not.toContain(3); // no cancel requested on it
        expect((await handle.query(batchedTransferQuery, t1.id))?.status).toBe('RUNNING');
        // Shard 1 comes up: the shared credit lands for both; t1, in its pivot when cancelled, completes.
        const late = await startWorkers(ctx, taskQueue.slice(0, -'-flows'.length), { units: () => ['ledger-1'] });
        const done = handle.result() as Promise<TransferBatchResult>;
        await Promise.all(late.map((w) => w.runUntil(done)));
        return done;
      },
      { units: () => ['flows', 'ledger-0'] },
    );
    expect(result.transfers.map((t) => [t.id, t.status])).toEqual([
      [t1.id, 'COMPLETED'],
      [t2.id, 'COMPLETED'],
    ]);
    expect(await account(ctx, dest)).toEqual({ balance: 300, frozen: 0 });
    expect(await entriesOf(ctx, a, `transfer-${t1.id}`)).toEqual([{ step: 'debit', amount: -100 }]);
  });

  it('when the whole batch run is cancelled, then every transfer not past its pivot is undone before the run closes', async () => {
    const { a, b, dest, batchId, transfers } = await twoIntoUnservedShard();
    const result = await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const handle = await startTransferBatch(ctx, { taskQueue, topology }, batchId, transfers);
        await until(async () => (await account(ctx, a))?.balance === 900 && (await account(ctx, b))?.balance === 800);
        await handle.cancel(); // the credits wait for shard 1, which nobody serves: both are still before their pivot
        return (await handle.result()) as TransferBatchResult;
      },
      { units: () => ['flows', 'ledger-0'] },
    );
    expect(result.transfers.map((t) => t.status)).toEqual(['COMPENSATED', 'COMPENSATED']);
    expect(await account(ctx, a)).toEqual({ balance: 1_000, frozen: 0 });
    expect(await account(ctx, b)).toEqual({ balance: 1_000, frozen: 0 });
    expect(await account(ctx, dest)).toEqual({ balance: 0, frozen: 0 });
  });
});
