// Batched mode's API side — where a batched transfer starts, waits and ends:
// - start: the transfers this process receives while a batch is starting gather in the next one (group commit,
//   src/platform/http/group-commit.ts), and each batch is one transferBatch run. A transfer's id is drawn from its
//   batch's id (`<batch>.<n>`, n chosen so the id hashes to the source account's shard, like every transfer id), so
//   GET, Prefer: wait and cancel find its run from the id alone, in any API process;
// - rejoin: a retried request (same Idempotency-Key) joins its batch; a batch that closed without it (its start failed,
//   or the API stopped after the key was claimed) never runs it, so it runs on its own (single.ts): every accepted
//   transfer ends in a terminal state found by its id;
// - wait: every Prefer: wait caller of one batch in this process is answered by one watch of that batch (a long poll
//   on its result in short rounds and, between rounds, one query for all of them) — no update per caller, so a batch
//   of 40 waits as well as a batch of 1 (Temporal allows 10 updates in flight per workflow).
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { shardOf } from '../../activities/ledger/contract';
import type { AppDeps } from '../../platform/http/deps';
import { stepTimeouts, topologyOf } from '../../platform/http/flow-input';
import { waitWithin } from '../../platform/http/flow-temporal';
import { GroupCommit } from '../../platform/http/group-commit';
import { FLOWS_UNIT, taskQueueOf } from '../../platform/stores';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import {
  addTransfersSignal,
  batchedTransferId,
  batchedTransfersQuery,
  batchOfTransfer,
  TransferIdKey,
  transferBatchWorkflowId,
  type BatchedTransfer,
  type TransferBatchInput,
  type TransferBatchResult,
  type TransferProgress,
} from './contract';
import { runAlone, transferSummary, type Accepted } from './single';

/** Place numbers leave room for the redraws that put an id on its shard: place k draws n from k·1000 on. */
const DRAWS_PER_PLACE = 1000;

/** A watch's round: how long one long poll on a batch's result lasts before the watch asks for its waiters. */
const ROUND_S = 1;

export interface TransferPlace {
  /** The transfer's id in its batch. */
  id: string;
  /** Hands the transfer to its batch and waits up to `seconds` for its end. */
  submit(transfer: BatchedTransfer, seconds: number): Promise<Accepted>;
  abandon(): void;
}

export function createTransferBatcher(deps: AppDeps) {
  const { config, temporal, metrics } = deps;
  const watches = new Map<string, BatchWatch>();
  let waiting = 0; // callers of this process waiting on their batches
  const wait = async (id: string, seconds: number): Promise<TransferProgress | undefined> => {
    const batchId = batchOfTransfer(id)!;
    let watch = watches.get(batchId);
    if (!watch) watches.set(batchId, (watch = new BatchWatch(deps, temporal.workflow.getHandle(transferBatchWorkflowId(batchId)), () => watches.delete(batchId))));
    waiting++;
    try {
      return await watch.wait(id, seconds);
    } finally {
      waiting--;
    }
  };
  const { lingerFrom, ...batch } = config.flows.transfers.batch;
  const group = new GroupCommit<BatchedTransfer, WorkflowHandle>(
    (batchId, transfers) => startBatch(deps, batchId, transfers),
    // Linger for company only under load (many callers of this process waiting on batches): a closed loop's callers
    // come back together, batch by batch, and only a linger merges those convoys into larger batches. At low load a
    // batch starts at once.
    { ...batch, busy: () => waiting >= lingerFrom },
    (size) => metrics.batchSize.observe({ type: 'transfer' }, size),
  );
  const shards = deps.stores.of('ledger').length;

  return {
    /** A place in the open batch for a transfer from `fromAccountId`. */
    reserve(fromAccountId: string): TransferPlace {
      const place = group.reserve();
      const shard = shardOf(fromAccountId, shards);
      let n = place.index * DRAWS_PER_PLACE;
      while (shardOf(batchedTransferId(place.groupId, n), shards) !== shard) n++;
      return {
        id: batchedTransferId(place.groupId, n),
        submit: async (transfer, seconds) => {
          await place.submit(transfer);
          return { started: true, result: await wait(transfer.id, seconds) };
        },
        abandon: () => place.abandon(),
      };
    },

    /**
     * A retried request of a batched transfer: its batch may be running (the transfer is added if it is not there),
     * never started (it starts now, with this transfer) or closed — with it (its end stands) or without it (it runs on
     * its own now; a closed batch is never started again).
     */
    async rejoin(transfer: BatchedTransfer, seconds: number): Promise<Accepted> {
      const batchId = batchOfTransfer(transfer.id)!;
      try {
        await temporal.workflow.signalWithStart('transferBatch', { ...batchStart(deps, batchId, [], [transfer]), signal: addTransfersSignal, signalArgs: [[transfer]] });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const closed = await temporal.workflow.getHandle(transferBatchWorkflowId(batchId)).result().catch(() => undefined) as TransferBatchResult | undefined;
        if (!closed?.transfers.some((t) => t.id === transfer.id)) return runAlone(deps, transfer, seconds);
      }
      return { started: false, result: await wait(transfer.id, seconds) };
    },
  };
}

async function startBatch(deps: AppDeps, batchId: string, transfers: BatchedTransfer[]): Promise<WorkflowHandle> {
  const { temporal } = deps;
  try {
    return await temporal.workflow.start('transferBatch', {
      ...batchStart(deps, batchId, transfers, transfers),
      staticSummary: transfers.length === 1 ? transferSummary(transfers[0]) : `${transfers.length} transfers`,
      staticDetails: transfers.map((t) => `- ${t.id}: ${transferSummary(t)}`).join('\n'),
    });
  } catch (err) {
    // A retried request of this batch got there first (rejoin): hand it the rest.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const handle = temporal.workflow.getHandle(transferBatchWorkflowId(batchId));
    await handle.signal(addTransfersSignal, transfers);
    return handle;
  }
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

interface Waiter {
  deadline: number;
  resolve(progress: TransferProgress | undefined): void;
}

const ended = (p: TransferProgress | undefined): p is TransferProgress => p?.status === 'COMPLETED' || p?.status === 'COMPENSATED';

/** The Prefer: wait callers of one batch in this process, answered together; ends when none is left. */
class BatchWatch {
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(
    private readonly deps: AppDeps,
    private readonly handle: WorkflowHandle,
    private readonly onIdle: () => void,
  ) {}

  wait(id: string, seconds: number): Promise<TransferProgress | undefined> {
    if (seconds <= 0 || this.deps.draining?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const first = this.waiters.size === 0;
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), { deadline: Date.now() + seconds * 1000, resolve }]);
      if (first) void this.run().finally(this.onIdle);
    });
  }

  private answer(id: string, progress: TransferProgress | undefined) {
    for (const w of this.waiters.get(id) ?? []) w.resolve(progress);
    this.waiters.delete(id);
  }

  private async run() {
    while (this.waiters.size) {
      const began = Date.now();
      const earliest = Math.min(...[...this.waiters.values()].flat().map((w) => w.deadline));
      const round = Math.max(50, Math.min(ROUND_S * 1000, earliest - began));
      const closed = await waitWithin(this.deps, round / 1000, () => this.handle.result() as Promise<TransferBatchResult>).catch(() => undefined);
      if (closed || this.deps.draining?.aborted) {
        for (const id of [...this.waiters.keys()]) this.answer(id, closed?.transfers.find((t) => t.id === id));
        return;
      }
      const ids = [...this.waiters.keys()];
      const views = await this.handle.query(batchedTransfersQuery, ids).catch(() => [] as Array<TransferProgress | undefined>);
      ids.forEach((id, k) => {
        if (ended(views[k])) this.answer(id, views[k]);
      });
      this.expire();
      // A poll that failed at once (Temporal unreachable) must not turn this loop into a busy one.
      const rest = began + round - Date.now();
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    }
  }

  /** Answers (with nothing) the callers whose wait is over. */
  private expire() {
    const now = Date.now();
    for (const [id, list] of this.waiters) {
      const over = list.filter((w) => w.deadline <= now + 50);
      for (const w of over) w.resolve(undefined);
      const left = list.filter((w) => !over.includes(w));
      if (left.length) this.waiters.set(id, left);
      else this.waiters.delete(id);
    }
  }
}
