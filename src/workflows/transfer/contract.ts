// The transfer flow's sandbox-safe face: its input, its observable state, its query, its workflow id and search
// attribute. Routes import this module, never the workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { TransferRecord } from '../../activities/ledger/contract';
import type { FlowReason, StepProgress, StepTimeouts, Topology } from '../../platform/workflow/types';

export type TransferStatus = 'RUNNING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED';
export const terminalTransferStatuses: readonly TransferStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED'];

/**
 * The guarantee a transfer runs under: `saga` (debit, then credit; a reader may see the money in neither account for a
 * moment), `tcc` (try: held on the source and pending on the destination; confirm or cancel both) or `xa` (two-phase
 * commit across the two shard databases: never an intermediate state). An input recorded before the choice existed
 * has none: saga.
 */
export const consistencies = ['saga', 'tcc', 'xa'] as const;
export type Consistency = (typeof consistencies)[number];

/** Where a transfer is, by mode. saga: started → debited → credited (or refunded); tcc: started → held → confirmed (or
 * cancelled); xa: started → prepared → committed (or rolled-back). */
export type TransferPhase = 'started' | 'debited' | 'credited' | 'refunded' | 'held' | 'confirmed' | 'cancelled' | 'prepared' | 'committed' | 'rolled-back';

/** What the flow moves: the ledger's transfer record, plus how the flow's steps are timed and routed. */
export interface TransferInput extends TransferRecord {
  timeouts: StepTimeouts;
  topology: Topology;
  /** Absent in inputs recorded before the modes existed: saga. */
  consistency?: Consistency;
}

export interface TransferProgress extends TransferRecord {
  status: TransferStatus;
  consistency: Consistency;
  phase: TransferPhase;
  reason?: FlowReason;
  /** A compensation has been failing for longer than the configured time: an operator should look. */
  stuck?: boolean;
  steps: StepProgress[];
}

export const transferProgressQuery = defineQuery<TransferProgress>('progress');

/** Workflow ids carry the transfer id; the same id can never run twice (an Idempotency-Key maps to the same id). */
export const transferWorkflowId = (id: string) => `transfer-${id}`;

/** Every transfer a run holds (one for transferMoney, all of a batch's): `TransferId = 'x'` finds the run of x. */
export const TransferIdKey = defineSearchAttributeKey('TransferId', SearchAttributeType.KEYWORD_LIST);

// Batched mode: one transferBatch run holds the transfers one API process received within a moment, each its own
// saga (run.ts). A batched transfer's id is `<batch id>.<n>`, so its run is found from its id alone.

/** One transfer of a batch: its record (the batch input carries the shared timeouts and topology once). */
export type BatchedTransfer = Omit<TransferInput, 'timeouts' | 'topology'>;

export interface TransferBatchInput {
  batchId: string;
  timeouts: StepTimeouts;
  topology: Topology;
  transfers: BatchedTransfer[];
}

export interface TransferBatchResult {
  transfers: TransferProgress[];
}

export const transferBatchWorkflowId = (batchId: string) => `transfers-${batchId}`;
export const batchedTransferId = (batchId: string, n: number) => `${batchId}.${n}`;
/** The batch a transfer id belongs to, or undefined for a transfer that runs as its own workflow. */
export function batchOfTransfer(id: string): string | undefined {
  const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.\d{1,6}$/.exec(id);
  return m?.[1];
}
/** The workflow that runs transfer `id`, batched or not. */
export const transferRunWorkflowId = (id: string) => {
  const batch = batchOfTransfer(id);
  return batch ? transferBatchWorkflowId(batch) : transferWorkflowId(id);
};

/** One transfer's progress in a batch (undefined when the batch does not hold it). */
export const batchedTransferQuery = defineQuery<TransferProgress | undefined, [string]>('transfer');
/** Many transfers' progress at once, in the order asked (undefined for an id the batch does not hold): one query
 * answers every Prefer: wait caller of a batch that one API process serves. */
export const batchedTransfersQuery = defineQuery<Array<TransferProgress | undefined>, [string[]]>('transfers');
/** Returns when the transfer is terminal, with its final progress (Prefer: wait on a single run). Refused for an id
 * not in the run. The API no longer sends it to a batch (Temporal allows 10 updates in flight per workflow); a batch
 * still answers it for callers of earlier versions. */
export const awaitTransferUpdate = defineUpdate<TransferProgress, [string]>('awaitTransfer');
/** Adds transfers to a running batch (a retried request whose batch lost it); ids already held are ignored. */
export const addTransfersSignal = defineSignal<[BatchedTransfer[]]>('addTransfers');
/** Cancels one transfer of a batch: undone if it has not passed its pivot, else it completes. The others go on. */
export const cancelTransferSignal = defineSignal<[string]>('cancelTransfer');
