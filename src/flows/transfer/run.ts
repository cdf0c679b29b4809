// One transfer, as a unit a workflow runs: the single-transfer workflow runs one, a batch workflow runs many side by
// side, each with its own progress, compensation stack, pivot and outcome. The transfer's mode (`consistency`) picks
// its body — saga.ts (debit → credit, the credit the pivot), tcc.ts (hold both → confirm both, or cancel both) or
// xa.ts (prepare both shard branches → commit both, or roll both back) — and this class keeps what they share: the
// status, the phase, the reason, the alarm, and recording the outcome on the transfer row.
//
// The two accounts usually live on different ledger shards, on different database servers: each step is a local
// transaction (an XA branch is one too) on its own shard, reached through that shard's task queue. A rejection or a
// cancellation undoes what the mode did (refund / cancel / rollback) and records COMPENSATED; a cancellation is then
// rethrown (a single-transfer run ends cancelled; a batch catches it).
import { isCancellation, log } from '@temporalio/workflow';
import { ledgerQueue, shardOf, type LedgerActivities, type TransferRecord } from '../../domains/ledger/contract';
import { money } from '../../platform/money';
import { reasonOf } from '../../platform/workflow/outcome';
import { Progress } from '../../platform/workflow/progress';
import { stepProxies, type StepProxies } from '../../platform/workflow/proxies';
import { Saga } from '../../platform/workflow/saga';
import type { FlowReason } from '../../platform/workflow/types';
import type { XaDecision } from '../../platform/workflow/xa';
import type { Consistency, TransferInput, TransferPhase, TransferProgress, TransferStatus } from './contract';
import { runSaga } from './saga';
import { runTcc } from './tcc';
import { runXa } from './xa';

/** Where a transfer tells the world how it is doing (the run's search attributes and details, or a batch's). */
export interface TransferReporter {
  /** The status changed (FAILED: a compensation keeps failing; it clears when the compensation succeeds). */
  status(status: TransferStatus | 'FAILED', details: string): void;
  /** What the transfer is doing now, in a line. */
  details(text: string): void;
}

/** What a mode's body works with. */
export interface TransferContext {
  transfer: TransferRecord;
  saga: Saga;
  source: StepProxies<LedgerActivities>;
  destination: StepProxies<LedgerActivities>;
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

const modes: Record<Consistency, TransferMode> = { saga: runSaga, tcc: runTcc, xa: runXa };

export class TransferRun {
  private readonly progress = new Progress();
  private status: TransferStatus = 'RUNNING';
  private reason: FlowReason | undefined;
  private stuck = false;
  private phase: TransferPhase = 'started';
  private readonly decisions = new Map<string, XaDecision>();
  readonly record: TransferRecord;
  readonly consistency: Consistency;

  constructor(
    private readonly input: TransferInput,
    private readonly report: TransferReporter,
  ) {
    const { id, fromAccountId, toAccountId, amount, currency, memo } = input;
    this.record = { id, fromAccountId, toAccountId, amount, currency, memo };
    this.consistency = input.consistency ?? 'saga';
  }

  get id(): string {
    return this.input.id;
  }

  get terminal(): boolean {
    return this.status !== 'RUNNING';
  }

  view(): TransferProgress {
    const { status, stuck, reason, consistency, phase } = this;
    return { ...this.record, status: stuck ? 'FAILED' : status, consistency, phase, reason, stuck, steps: this.progress.snapshot() };
  }

  /** The XA decision for one of this transfer's branches (the xid's bqual), for the recovery job. */
  xaDecision(bqual: string): XaDecision | undefined {
    return this.decisions.get(bqual);
  }

  /**
   * Runs the transfer to its end. Resolves with the final view; a cancelled transfer is undone and then the
   * cancellation is rethrown (a single-transfer run ends cancelled; a batch catches it).
   */
  async run(): Promise<TransferProgress> {
    const { input, report, record: transfer } = this;
    const { topology, timeouts, fromAccountId, toAccountId } = input;
    const shardOfAccount = (accountId: string) => shardOf(accountId, topology.ledgerShards);
    const onShard = (shard: number) => stepProxies<LedgerActivities>(ledgerQueue(topology.queuePrefix, shard), timeouts);
    const source = onShard(shardOfAccount(fromAccountId));
    const destination = onShard(shardOfAccount(toAccountId));
    const onStuck = (now: boolean) => {
      this.stuck = now;
      report.status(now ? 'FAILED' : this.status, now ? 'A compensation keeps failing: operator attention needed' : 'Compensating');
    };
    const saga = new Saga(this.progress, { stuckAfterMs: timeouts.compensationStuckAfterMs, onStuck });
    const mode = modes[this.consistency];
    const ctx: TransferContext = {
      transfer,
      saga,
      source,
      destination,
      sameShard: shardOfAccount(fromAccountId) === shardOfAccount(toAccountId),
      amount: money(input.amount, input.currency),
      report,
      phase: (p) => (this.phase = p),
      decide: (decision, branchIds) => branchIds.forEach((b) => this.decisions.set(b, decision)),
    };
    const record = (final: TransferStatus, why?: FlowReason) =>
      saga.retriable('record-outcome', () =>
        source.undo.finishTransfer.executeWithOptions({ summary: `Record ${final}${why ? ` (${why.code})` : ''}` }, [{ transfer, status: final, reason: why }]),
      );

    try {
      await mode.run(ctx);
    } catch (err) {
      const reason = (this.reason = reasonOf(err));
      log.info('transfer rejected; compensating', { transferId: transfer.id, reason: reason.code, consistency: this.consistency });
      report.details(`Compensating: ${reason.message}`);
      await saga.compensate();
      this.phase = mode.undone;
      await record('COMPENSATED', reason);
      this.status = 'COMPENSATED';
      report.status(this.status, `Compensated: ${reason.message}`);
      if (isCancellation(err)) throw err;
      return this.view();
    }
    await record('COMPLETED');
    this.status = 'COMPLETED';
    report.status(this.status, `Completed: ${ctx.amount} moved`);
    return this.view();
  }
}
