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
//
// The saga's steps reach the shards through LedgerSteps: each its own activity (a single-transfer run), or coalesced
// with the other transfers of a batch run that reach the same step on the same shard together (one activity call,
// each item still its own local transaction with its own barrier rows). Barrier rows and ledger entries are keyed by
// the transfer's own flow id, `transfer-<id>`, in both cases. Batches hold saga transfers only (the API starts tcc and
// xa transfers as runs of their own).
import { isCancellation, log } from '@temporalio/workflow';
import { ledgerQueue, shardOf, type LedgerActivities, type TransferRecord } from '../../activities/ledger/contract';
import { money } from '../../platform/money';
import { Coalescer, type Gathering } from '../../platform/workflow/coalesce';
import { reasonOf } from '../../platform/workflow/outcome';
import { Progress } from '../../platform/workflow/progress';
import { stepProxies } from '../../platform/workflow/proxies';
import { Saga } from '../../platform/workflow/saga';
import type { FlowReason, StepTimeouts, Topology } from '../../platform/workflow/types';
import type { XaDecision } from '../../platform/workflow/xa';
import { transferWorkflowId, type Consistency, type TransferInput, type TransferPhase, type TransferProgress, type TransferStatus } from './contract';
import { runSaga } from './saga';
import { runTcc } from './tcc';
import { runXa } from './xa';
import type { LedgerSteps, TransferContext, TransferMode, TransferReporter, TransferStep, TransferOutcome } from './mode';

export type { TransferReporter } from './mode';

const proxiesOn = (topology: Topology, timeouts: StepTimeouts, shard: number) =>
  stepProxies<LedgerActivities>(ledgerQueue(topology.queuePrefix, shard), timeouts);

/**
 * A batch run's ledger: the transfers that reach the same step on the same shard together go out as one activity call
 * (each item its own local transaction and barrier rows; see platform/workflow/coalesce.ts).
 */
export function coalescedLedgerSteps(topology: Topology, timeouts: StepTimeouts, gather: Gathering): LedgerSteps {
  const shards = Array.from({ length: topology.ledgerShards }, (_, n) => {
    const p = proxiesOn(topology, timeouts, n);
    const many = (what: string) => (n: number) => ({ summary: `${what} ${n} transfer${n === 1 ? '' : 's'}` });
    const watch = (step: string) => ({ step, stuckAfterMs: timeouts.compensationStuckAfterMs });
    return {
      debits: new Coalescer((items: TransferStep[]) => p.forward.debitSources.executeWithOptions(many('Debit')(items.length), [items]), { kind: 'forward', gather }),
      refunds: new Coalescer((items: TransferStep[]) => p.undo.refundDebits.executeWithOptions(many('Refund')(items.length), [items]), { kind: 'undo', gather, watch: watch('debit') }),
      credits: new Coalescer((items: TransferStep[]) => p.pivot.creditDestinations.executeWithOptions(many('Credit')(items.length), [items]), { kind: 'pivot', gather }),
      finishes: new Coalescer((items: TransferOutcome[]) => p.settle.finishTransfers.executeWithOptions(many('Record')(items.length), [items]), {
        kind: 'settle',
        gather,
        watch: watch('record-outcome'),
      }),
    };
  });
  const of = (accountId: string) => shards[shardOf(accountId, topology.ledgerShards)];
  return {
    debit: (s) => of(s.transfer.fromAccountId).debits.request(s),
    refund: (s, _summary, onStuck) => of(s.transfer.fromAccountId).refunds.request(s, { onStuck }),
    credit: (s) => of(s.transfer.toAccountId).credits.request(s),
    finish: (o, _summary, onStuck) => of(o.transfer.fromAccountId).finishes.request(o, { onStuck }),
    watched: true,
  };
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

  /** `ledger`: how a saga's steps reach the shards; by default each step is an activity of its own. */
  constructor(
    private readonly input: TransferInput,
    private readonly report: TransferReporter,
    private readonly ledgerSteps?: LedgerSteps,
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
    const source = proxiesOn(topology, timeouts, shardOfAccount(fromAccountId));
    const destination = proxiesOn(topology, timeouts, shardOfAccount(toAccountId));
    const ledger: LedgerSteps = this.ledgerSteps ?? {
      debit: (s, summary) => source.forward.debitSource.executeWithOptions({ summary }, [s]),
      refund: (s, summary) => source.undo.refundDebit.executeWithOptions({ summary }, [s]),
      credit: (s, summary) => destination.pivot.creditDestination.executeWithOptions({ summary }, [s]),
      finish: (o, summary) => source.settle.finishTransfer.executeWithOptions({ summary }, [o]),
    };
    const onStuck = (now: boolean) => {
      this.stuck = now;
      report.status(now ? 'FAILED' : this.status, now ? 'A compensation keeps failing: operator attention needed' : 'Compensating');
    };
    const saga = new Saga(this.progress, { stuckAfterMs: timeouts.compensationStuckAfterMs, onStuck, watch: !ledger.watched });
    const mode = modes[this.consistency];
    const ctx: TransferContext = {
      transfer,
      flowId: transferWorkflowId(transfer.id),
      saga,
      source,
      destination,
      ledger,
      onStuck,
      sameShard: shardOfAccount(fromAccountId) === shardOfAccount(toAccountId),
      amount: money(input.amount, input.currency),
      report,
      phase: (p) => (this.phase = p),
      decide: (decision, branchIds) => branchIds.forEach((b) => this.decisions.set(b, decision)),
    };
    const record = (final: TransferStatus, why?: FlowReason) =>
      saga.always('record-outcome', () => ledger.finish({ transfer, status: final, reason: why }, `Record ${final}${why ? ` (${why.code})` : ''}`, onStuck));

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
