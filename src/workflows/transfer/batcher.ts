// Batched mode's API side: the transfers this process receives while a batch is starting gather in the next one
// (src/platform/http/group-commit.ts), and each batch is one transferBatch run. A transfer's id is drawn from its
// batch's id (`<batch>.<n>`, n chosen so the id hashes to the source account's shard, like every transfer id).
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { shardOf } from '../../activities/ledger/contract';
import type { AppDeps } from '../../platform/http/deps';
import { FLOWS_UNIT, stepTimeouts, topologyOf, waitWithin } from '../../platform/http/flow-temporal';
import { GroupCommit } from '../../platform/http/group-commit';
import { taskQueueOf } from '../../platform/stores';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { money } from '../../platform/money';
import {
  addTransfersSignal,
  awaitTransferUpdate,
  batchedTransferId,
  batchOfTransfer,
  TransferIdKey,
  transferBatchWorkflowId,
  type BatchedTransfer,
  type TransferBatchInput,
  type TransferBatchResult,
  type TransferProgress,
} from './contract';

export const transferSummary = (t: Pick<BatchedTransfer, 'amount' | 'currency' | 'fromAccountId' | 'toAccountId'>) =>
  `Transfer ${money(t.amount, t.currency)} ${t.fromAccountId} → ${t.toAccountId}`;

/**
 * How long a batched request waits on its batch's shared result before asking for its own transfer alone: a batch's
 * transfers move in step (coalesced calls), so one long poll per batch answers them all; a transfer whose neighbour is
 * slow (a compensation that keeps failing) gets its own answer through the awaitTransfer update after this.
 */
const SHARED_WAIT_MS = 5_000;

/** The longest Prefer: wait (seconds): a shared long poll lasts as long as its longest waiter may. */
const MAX_WAIT_S = 30;

/** Place numbers leave room for the redraws that put an id on its shard: place k draws n from k·1000 on. */
const DRAWS_PER_PLACE = 1000;

export interface TransferPlace {
  /** The transfer's id in its batch. */
  id: string;
  submit(transfer: BatchedTransfer): Promise<{ handle: WorkflowHandle; started: boolean }>;
  abandon(): void;
}

export function createTransferBatcher(deps: AppDeps) {
  const { config, temporal, metrics } = deps;
  // The batches this process started that still run: one shared long poll on each one's result.
  const running = new Map<string, Promise<TransferBatchResult | undefined>>();
  const shared = (batchId: string, handle: WorkflowHandle) => {
    let result = running.get(batchId);
    if (!result) {
      result = waitWithin(deps, MAX_WAIT_S, () => handle.result() as Promise<TransferBatchResult>);
      running.set(batchId, result);
      void result.finally(() => running.delete(batchId)).catch(() => undefined);
    }
    return result;
  };
  const shards = deps.stores.of('ledger').length;
  const group = new GroupCommit<BatchedTransfer, WorkflowHandle>(
    async (batchId, transfers) => {
      const workflowId = transferBatchWorkflowId(batchId);
      try {
        return await temporal.workflow.start('transferBatch', {
          ...batchStart(deps, batchId, transfers, transfers),
          staticSummary: transfers.length === 1 ? transferSummary(transfers[0]) : `${transfers.length} transfers`,
          staticDetails: transfers.map((t) => `- ${t.id}: ${transferSummary(t)}`).join('\n'),
        });
      } catch (err) {
        // A retried request of this batch got there first (rejoin): hand it the rest.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const handle = temporal.workflow.getHandle(workflowId);
        await handle.signal(addTransfersSignal, transfers);
        return handle;
      }
    },
    // Linger for company only while batches of this process run (under load); at low load a batch starts at once.
    { ...config.flows.transfers.batch, busy: () => running.size > 0 },
    (size) => metrics.batchSize.observe({ type: 'transfer' }, size),
  );

  return {
    /**
     * Prefer: wait for a transfer of a batch: the batch's shared result when this process started it (one long poll
     * for the whole batch), its own awaitTransfer update when the batch takes longer than SHARED_WAIT_MS or was started
     * elsewhere.
     */
    async wait(handle: WorkflowHandle, id: string, seconds: number): Promise<TransferProgress | undefined> {
      const batchId = batchOfTransfer(id)!;
      if (seconds <= 0 || deps.draining?.aborted) return undefined;
      const deadline = Date.now() + seconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const first = await Promise.race([
        shared(batchId, handle).then((r) => r?.transfers.find((t) => t.id === id), () => undefined),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.min(SHARED_WAIT_MS, seconds * 1000)))),
      ]).finally(() => clearTimeout(timer));
      if (first) return first;
      const left = (deadline - Date.now()) / 1000;
      return left < 0.05 ? undefined : awaitBatchedTransfer(deps, handle, id, left);
    },
    /** A place in the open batch for a transfer from `fromAccountId`. */
    reserve(fromAccountId: string): TransferPlace {
      const place = group.reserve();
      const shard = shardOf(fromAccountId, shards);
      let n = place.index * DRAWS_PER_PLACE;
      while (shardOf(batchedTransferId(place.groupId, n), shards) !== shard) n++;
      return {
        id: batchedTransferId(place.groupId, n),
        submit: async (transfer) => ({ handle: await place.submit(transfer), started: true }),
        abandon: () => place.abandon(),
      };
    },
  };
}

/**
 * What every start of a batch run carries: its id, queue, input (the shared timeouts and topology once, and
 * `transfers`), the reuse policy that never starts a closed batch again, and the search attributes naming `listed`.
 */
function batchStart(deps: AppDeps, batchId: string, transfers: BatchedTransfer[], listed: BatchedTransfer[]) {
  const { config } = deps;
  const input: TransferBatchInput = { batchId, timeouts: stepTimeouts(deps), topology: topologyOf(deps), transfers };
  return {
    workflowId: transferBatchWorkflowId(batchId),
    taskQueue: taskQueueOf(config.temporal.taskQueuePrefix, FLOWS_UNIT),
    args: [input] as [TransferBatchInput],
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: TransferIdKey, value: listed.map((t) => t.id) },
      { key: FlowStatusKey, value: 'RUNNING' },
    ],
  };
}

/**
 * A retried request (same Idempotency-Key) of a batched transfer: its batch may be running (the transfer is added if
 * it is not there), never started (the API failed before its start: it starts now, with this transfer), or closed
 * (its transfers are all terminal and recorded; a closed batch is never started again).
 */
export async function rejoinBatch(deps: AppDeps, transfer: BatchedTransfer): Promise<{ handle: WorkflowHandle; started: boolean }> {
  const { temporal } = deps;
  const batchId = batchOfTransfer(transfer.id)!;
  const workflowId = transferBatchWorkflowId(batchId);
  try {
    const handle = await temporal.workflow.signalWithStart('transferBatch', {
      ...batchStart(deps, batchId, [], [transfer]),
      signal: addTransfersSignal,
      signalArgs: [[transfer]],
    });
    return { handle, started: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { handle: temporal.workflow.getHandle(workflowId), started: false };
  }
}

/**
 * Prefer: wait for one transfer of a batch: an update that returns when that transfer is terminal. A batch that
 * closed before the update reached it answers with its result instead.
 */
export async function awaitBatchedTransfer(deps: AppDeps, handle: WorkflowHandle, id: string, seconds: number): Promise<TransferProgress | undefined> {
  const deadline = Date.now() + seconds * 1000;
  const updated = await waitWithin(deps, seconds, () => handle.executeUpdate(awaitTransferUpdate, { args: [id] }));
  if (updated) return updated;
  const left = (deadline - Date.now()) / 1000;
  if (left < 0.05) return undefined;
  const closed = await waitWithin(deps, left, () => handle.result() as Promise<TransferBatchResult>);
  return closed?.transfers.find((t) => t.id === id);
}
