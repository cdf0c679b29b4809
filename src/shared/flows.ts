// Plain JSON DTOs that cross the API → workflow → activity boundaries, and the flows' observable state.

export type StepState = 'pending' | 'running' | 'done' | 'compensating' | 'compensated' | 'failed';

export interface StepProgress {
  name: string;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  /** Failed attempts of a compensation/confirm that is being retried. */
  retries?: number;
  error?: string;
}

export interface FlowReason {
  code: string;
  message: string;
}

export type TransferStatus = 'RUNNING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED';
export type OrderStatus = 'PENDING' | 'AWAITING_APPROVAL' | 'CONFIRMED' | 'CANCELLED' | 'FAILED';
export const terminalTransferStatuses: readonly TransferStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED'];
export const terminalOrderStatuses: readonly OrderStatus[] = ['CONFIRMED', 'CANCELLED', 'FAILED'];

/** Timeouts of a flow's steps, fixed at start so a run's behaviour is recorded in its history. */
export interface StepTimeouts {
  stepStartToCloseMs: number;
  stepScheduleToCloseMs: number;
  compensationStuckAfterMs: number;
}

export interface TransferInput {
  id: string;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  currency: string;
  memo?: string | null;
  timeouts: StepTimeouts;
  /** Run the steps as local activities (FLOW_LOCAL_ACTIVITIES). Optional: histories recorded without it replay as
   * regular activities. */
  localActivities?: boolean;
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

export interface OrderLine {
  sku: string;
  quantity: number;
}

export interface PricedLine extends OrderLine {
  price: number;
}

export interface OrderPolicy {
  approvalThreshold: number;
  approvalTimeoutMs: number;
  pointsPerMinorUnits: number;
  merchantAccountId: string;
}

export interface OrderInput {
  id: string;
  customerId: string;
  paymentAccountId: string;
  items: OrderLine[];
  policy: OrderPolicy;
  timeouts: StepTimeouts;
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

/** Update names and their argument shapes. */
export interface CancelOrderArgs {
  reason?: string;
}
