// The transfer flow's sandbox-safe face: its input, its observable state, its query, its workflow id and search
// attribute. Routes import this module, never the workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { FlowReason, StepProgress, StepTimeouts, Topology } from '../../platform/workflow/types';

export type TransferStatus = 'RUNNING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED';
export const terminalTransferStatuses: readonly TransferStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED'];

export interface TransferInput {
  id: string;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  currency: string;
  memo?: string | null;
  timeouts: StepTimeouts;
  topology: Topology;
}

export interface TransferProgress {
  id: string;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  currency: string;
  memo?: string | null;
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
