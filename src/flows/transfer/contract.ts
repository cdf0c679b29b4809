// The transfer flow's sandbox-safe face: its input, its observable state, its query, its workflow id and search
// attribute. Routes import this module, never the workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { TransferRecord } from '../../domains/ledger/contract';
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

export const TransferIdKey = defineSearchAttributeKey('TransferId', SearchAttributeType.KEYWORD);
