// The transfer flow's sandbox-safe face: its input, its observable state, its query, its workflow id and search
// attribute. Routes import this module, never the workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { TransferRecord } from '../../domains/ledger/contract';
import type { FlowReason, StepProgress, StepTimeouts, Topology } from '../../platform/workflow/types';

export type TransferStatus = 'RUNNING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED';
export const terminalTransferStatuses: readonly TransferStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED'];

/** What the flow moves: the ledger's transfer record, plus how the flow's steps are timed and routed. */
export interface TransferInput extends TransferRecord {
  timeouts: StepTimeouts;
  topology: Topology;
}

export interface TransferProgress extends TransferRecord {
  status: TransferStatus;
  reason?: FlowReason;
  /** A compensation has been failing for longer than the configured time: an operator should look. */
  stuck?: boolean;
  steps: StepProgress[];
}

export const transferProgressQuery = defineQuery<TransferProgress>('progress');

/** Workflow ids carry the transfer id; the same id can never run twice (an Idempotency-Key maps to the same id). */
export const transferWorkflowId = (id: string) => `transfer-${id}`;

export const TransferIdKey = defineSearchAttributeKey('TransferId', SearchAttributeType.KEYWORD);
