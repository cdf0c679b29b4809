// The shape of a transfer's body, shared by run.ts (which picks and runs one) and the three bodies (saga.ts, tcc.ts,
// xa.ts): what a body is given, and how a saga transfer's steps reach the ledger shards. Types only.
import type { LedgerActivities, TransferOutcome, TransferRecord, TransferStep } from '../../activities/ledger/contract';
import type { StepProxies } from '../../platform/workflow/proxies';
import type { Saga } from '../../platform/workflow/saga';
import type { XaDecision } from '../../platform/workflow/xa';
import type { TransferPhase, TransferStatus } from './contract';

export type { TransferOutcome, TransferStep };

/** Where a transfer tells the world how it is doing (the run's search attributes and details, or a batch's). */
export interface TransferReporter {
  /** The status changed (FAILED: a compensation keeps failing; it clears when the compensation succeeds). */
  status(status: TransferStatus | 'FAILED', details: string): void;
  /** What the transfer is doing now, in a line. */
  details(text: string): void;
}


/** How a saga transfer's steps reach the ledger shards. */
export interface LedgerSteps {
  debit(step: TransferStep, summary: string): Promise<unknown>;
  refund(step: TransferStep, summary: string, onStuck?: (stuck: boolean) => void): Promise<unknown>;
  /** The pivot: retried until its outcome is known, never abandoned half-known. */
  credit(step: TransferStep, summary: string): Promise<unknown>;
  finish(outcome: TransferOutcome, summary: string, onStuck?: (stuck: boolean) => void): Promise<unknown>;
  /** True when these calls raise the stuck alarm themselves (one timer per coalesced call, not one per step). */
  readonly watched?: boolean;
}

/** What a mode's body works with. */
export interface TransferContext {
  transfer: TransferRecord;
  /** The transfer's own flow id (`transfer-<id>`): the barrier rows' and ledger entries' key in both run shapes. */
  flowId: string;
  saga: Saga;
  source: StepProxies<LedgerActivities>;
  destination: StepProxies<LedgerActivities>;
  /** The saga's steps (each its own activity, or coalesced in a batch). */
  ledger: LedgerSteps;
  /** Raises or clears the stuck alarm of this transfer. */
  onStuck(stuck: boolean): void;
  /** True when both accounts live on one shard (one database). */
  sameShard: boolean;
  /** The amount with its currency, for summaries. */
  amount: string;
  report: TransferReporter;
  phase(p: TransferPhase): void;
  /** XA only: the decision for the branches, recorded before phase 2 (answers the recovery job's query). */
  decide(decision: XaDecision, branchIds: string[]): void;
}

/** A mode's body: resolves when the transfer completed; throws a rejection (or cancellation) after registering its
 * undo on the saga, which run() then runs; `undone` names the phase reached once it has. */
export interface TransferMode {
  run(ctx: TransferContext): Promise<void>;
  undone: TransferPhase;
}
