// The tip flow's sandbox-safe face: input, observable state, query, workflow id and search attribute.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { FlowReason, StepProgress, StepTimeouts, Topology } from '../../platform/workflow/types';

export type TipStatus = 'RUNNING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED';
export const terminalTipStatuses: readonly TipStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED'];

export interface TipInput {
  id: string;
  /** Who pays the tip, and collects the points for it. */
  fromAccountId: string;
  customerId: string;
  amount: number;
  currency: string;
  merchantAccountId: string;
  pointsPerMinorUnits: number;
  timeouts: StepTimeouts;
  topology: Topology;
}

export interface TipProgress {
  id: string;
  fromAccountId: string;
  customerId: string;
  amount: number;
  currency: string;
  points: number;
  status: TipStatus;
  reason?: FlowReason;
  stuck?: boolean;
  steps: StepProgress[];
}

export const tipProgressQuery = defineQuery<TipProgress>('progress');
export const tipWorkflowId = (id: string) => `tip-${id}`;
export const TipIdKey = defineSearchAttributeKey('TipId', SearchAttributeType.KEYWORD);
