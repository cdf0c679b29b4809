// The checkout flow's sandbox-safe face: input, observable state, query and updates, workflow id and search
// attribute. Routes import this module, never the workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { OrderStatus } from '../../activities/orders/contract';
import type { FlowReason, StepProgress, StepTimeouts, Topology } from '../../platform/workflow/types';

export type { OrderStatus };
export const terminalOrderStatuses: readonly OrderStatus[] = ['CONFIRMED', 'CANCELLED', 'FAILED'];

export const CheckoutErrors = {
  OrderCancelled: 'OrderCancelled',
  ApprovalTimedOut: 'ApprovalTimedOut',
} as const;

export interface OrderLine {
  sku: string;
  quantity: number;
}

export interface OrderPolicy {
  approvalThreshold: number;
  approvalTimeoutMs: number;
  pointsPerMinorUnits: number;
  merchantAccountId: string;
  /** Spread the merchant's sales over this many sub-accounts (MERCHANT_SUB_ACCOUNTS); absent = one account. */
  merchantSubAccounts?: number;
}

export interface OrderInput {
  id: string;
  customerId: string;
  paymentAccountId: string;
  items: OrderLine[];
  policy: OrderPolicy;
  timeouts: StepTimeouts;
  topology: Topology;
}

export interface OrderProgress {
  id: string;
  customerId: string;
  paymentAccountId: string;
  /** Priced once the order is created; before that, the requested lines with no price. */
  items: Array<OrderLine & { price?: number }>;
  status: OrderStatus;
  reason?: FlowReason;
  stuck?: boolean;
  total?: number;
  currency?: string;
  steps: StepProgress[];
}

export interface CancelOrderArgs {
  reason?: string;
  /** Who asked: `customer` from the API's cancel route (absent in updates sent before it said so). */
  by?: 'customer';
}

export const orderProgressQuery = defineQuery<OrderProgress>('progress');
export const approveOrderUpdate = defineUpdate<OrderProgress>('approve');
export const cancelOrderUpdate = defineUpdate<OrderProgress, [CancelOrderArgs]>('cancel');

export const orderWorkflowId = (id: string) => `order-${id}`;

export const OrderIdKey = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
