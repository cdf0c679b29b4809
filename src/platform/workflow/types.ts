// Plain JSON DTOs every flow shares (sandbox-safe): step progress, reasons, timeouts and the topology a flow routes by.

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

/** Timeouts of a flow's steps, fixed at start so a run's behaviour is recorded in its history. */
export interface StepTimeouts {
  stepStartToCloseMs: number;
  stepScheduleToCloseMs: number;
  compensationStuckAfterMs: number;
  /** Cap of the server-side retry interval of undo, confirm and pivot steps (default 30 s). */
  undoMaxIntervalMs?: number;
}

/**
 * Where a flow's steps run, fixed at start and recorded in its input (so a replay routes the same way): task queues
 * are `<queuePrefix>-<unit>`, and ledger accounts are spread over `ledgerShards` shards.
 */
export interface Topology {
  queuePrefix: string;
  ledgerShards: number;
}
