// A cancel request that reaches a transfer while its credit (the pivot) is in flight, through the real workers, server
// and both MariaDB servers. The credit commits, then its worker "dies" before replying (an activity interceptor on the
// real worker throws after the real activity committed): the attempt's outcome is unknown, and the server no longer
// retries it because a cancel was requested. The transfer must then find out (re-run the credit; the barrier makes it a
// duplicate) and complete — never credit the destination and refund the source too.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/activities/ledger/contract';
import { newTransferId } from '../../src/activities/ledger/reads';
import {
  batchedTransferId,
  cancelTransferSignal,
  transferWorkflowId,
  type BatchedTransfer,
  type TransferBatchResult,
  type TransferProgress,
} from '../../src/workflows/transfer/contract';
import { account, createAccount, createFlowsEnv, entriesOf, fastTimeouts, withWorker, startTransferBatch, type FlowsEnv } from '../helpers/env';
import { until } from '../helpers/wait';

/** PENDING_ACTIVITY_STATE_CANCEL_REQUESTED in Temporal's API. */
const CANCEL_REQUESTED = 3;

/**
 * Makes the first attempt of `activityType` lose its reply: the real activity runs and commits, then the attempt waits
 * for `release()` and fails as if its worker had died after COMMIT.
 */
function replyLostAfterCommit(activityType: string) {
  let armed = true;
  let committed!: () => void;
  let release!: () => void;
  const state = {
    committed: new Promise<void>((r) => (committed = r)),
    released: new Promise<void>((r) => (release = r)),
  };
  const factory: ActivityInterceptorsFactory = (actx) => ({
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        if (armed && actx.info.activityType === activityType) {
          armed = false;
          committed();
          await state.released;
          throw new Error('the worker died after COMMIT: the reply is lost');
        }
        return result;
      },
    },
  });
  return { factory, committed: state.committed, release };
}

/** True when some activity of the run has a cancel request pending on the server. */
async function cancelRequested(handle: WorkflowHandle): Promise<boolean> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).some((a) => a.state === CANCEL_REQUESTED);
}

describe('a cancel request while the pivot is in flight', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  it('when a transfer is cancelled while its credit committed and the reply was lost, then it completes and is never refunded', async () => {
    const from = await createAccount(ctx, 1_000, 'USD', { shard: 0 });
    const to = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const id = newTransferId(ctx.stores, from);
    const lost = replyLostAfterCommit('creditDestination');
    const outcome = await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const handle = await ctx.env.client.workflow.start('transferMoney', {
          taskQueue,
          workflowId: transferWorkflowId(id),
          args: [{ id, fromAccountId: from, toAccountId: to, amount: 100, currency: 'USD', memo: null, timeouts: fastTimeouts, topology }],
        });
        await lost.committed; // credited on shard 1; the attempt has not answered
        await handle.cancel();
        await until(() => cancelRequested(handle), 10_000);
        lost.release(); // the attempt fails now: with a cancel requested, the server does not retry it
        return (handle.result() as Promise<TransferProgress>).then(
          (r) => r.status,
          (err: Error) => `failed: ${err.message}`,
        );
      },
      { overrides: { interceptors: { activity: [lost.factory] } } },
    );
    expect(outcome).toBe('COMPLETED');
    expect(await account(ctx, from)).toEqual({ balance: 900, frozen: 0 });
    expect(await account(ctx, to)).toEqual({ balance: 100, frozen: 0 });
    expect(await entriesOf(ctx, from, transferWorkflowId(id))).toEqual([{ step: 'debit', amount: -100 }]);
    expect(await entriesOf(ctx, to, transferWorkflowId(id))).toEqual([{ step: 'credit', amount: 100 }]);
  });

  it('when one transfer of a batch is cancelled while the coalesced credit committed and its reply was lost, then neither transfer is refunded', async () => {
    const [a, b] = [await createAccount(ctx, 1_000, 'USD', { shard: 0 }), await createAccount(ctx, 1_000, 'USD', { shard: 0 })];
    const dest = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const batchId = randomUUID();
    const shards = ctx.stores.of('ledger').length;
    let n = 0;
    const transfers: BatchedTransfer[] = [
      [a, 100],
      [b, 200],
    ].map(([fromAccountId, amount]) => {
      while (shardOf(batchedTransferId(batchId, n), shards) !== 0) n++;
      return { id: batchedTransferId(batchId, n++), fromAccountId: fromAccountId as string, toAccountId: dest, amount: amount as number, currency: 'USD', memo: null };
    });
    const lost = replyLostAfterCommit('creditDestinations');
    const result = await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const handle = await startTransferBatch(ctx, { taskQueue, topology }, batchId, transfers);
        await lost.committed; // both credited in one call; the call has not answered
        await handle.signal(cancelTransferSignal, transfers[0].id);
        // The cancel of one member must not reach the call that carries the other's credit; give it time to.
        await until(() => cancelRequested(handle), 2_000).catch(() => undefined);
        lost.release();
        return (await handle.result()) as TransferBatchResult;
      },
      { overrides: { interceptors: { activity: [lost.factory] } } },
    );
    expect(result.transfers.map((t) => t.status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(await account(ctx, a)).toEqual({ balance: 900, frozen: 0 });
    expect(await account(ctx, b)).toEqual({ balance: 800, frozen: 0 });
    expect(await account(ctx, dest)).toEqual({ balance: 300, frozen: 0 });
    for (const [t, from] of [[transfers[0], a], [transfers[1], b]] as const) {
      expect(await entriesOf(ctx, from, transferWorkflowId(t.id))).toEqual([{ step: 'debit', amount: -t.amount }]);
    }
  });
});
