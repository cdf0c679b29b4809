// One transfer's saga, as a unit a workflow runs: the single-transfer workflow runs one, a batch workflow runs many
// side by side, each with its own progress, compensation stack, pivot and outcome.
//
// debit the source (on its shard) → credit the destination (on its shard) → record the outcome. The two accounts
// usually live on different ledger shards, on different database servers: each step is a local transaction on its
// own shard, reached through that shard's task queue.
// Step kinds: the debit is compensable (refunded); the credit is the pivot — once credited, the destination may spend
// the money at once, so a credit is never reversed: it is retried until known (it happened, or it was rejected and the
// debit is refunded → COMPENSATED with the reason); recording the outcome is retriable. A refund that keeps failing
// marks the transfer FAILED for an operator while it keeps retrying.
import { isCancellation, log, patched } from '@temporalio/workflow';
import { ledgerQueue, shardOf, type LedgerActivities, type TransferRecord } from '../../domains/ledger/contract';
import { Coalescer } from '../../platform/workflow/coalesce';
import { money } from '../../platform/money';
import { reasonOf } from '../../platform/workflow/outcome';
import { Progress } from '../../platform/workflow/progress';
import { stepProxies } from '../../platform/workflow/proxies';
import { Saga } from '../../platform/workflow/saga';
import type { FlowReason, StepTimeouts, Topology } from '../../platform/workflow/types';
import { transferWorkflowId, type TransferInput, type TransferProgress, type TransferStatus } from './contract';

/** Where a transfer tells the world how it is doing (the run's search attributes and details, or a batch's). */
export interface TransferReporter {
  /** The status changed (FAILED: a compensation keeps failing; it clears when the compensation succeeds). */
  status(status: TransferStatus | 'FAILED', details: string): void;
  /** What the transfer is doing now, in a line. */
  details(text: string): void;
}

type TransferStep = Parameters<LedgerActivities['debitSource']>[0];
type TransferOutcome = Parameters<LedgerActivities['finishTransfer']>[0];

/** How a transfer's steps reach the ledger shards. */
export interface LedgerSteps {
  debit(step: TransferStep, summary: string): Promise<unknown>;
  refund(step: TransferStep, summary: string, onStuck?: (stuck: boolean) => void): Promise<unknown>;
  /** The pivot: retried until its outcome is known, never abandoned half-known. */
  credit(step: TransferStep, summary: string): Promise<unknown>;
  finish(outcome: TransferOutcome, summary: string, onStuck?: (stuck: boolean) => void): Promise<unknown>;
  /** True when these calls raise the stuck alarm themselves (one timer per coalesced call, not one per step). */
  readonly watched?: boolean;
}

const proxiesOn = (topology: Topology, timeouts: StepTimeouts, shard: number) =>
  stepProxies<LedgerActivities>(ledgerQueue(topology.queuePrefix, shard), timeouts);

/**
 * A batch run's ledger: the transfers that reach the same step on the same shard together go out as one activity call
 * (each item its own local transaction and barrier rows; see platform/workflow/coalesce.ts).
 */
export function coalescedLedgerSteps(topology: Topology, timeouts: StepTimeouts): LedgerSteps {
  const shards = Array.from({ length: topology.ledgerShards }, (_, n) => {
    const p = proxiesOn(topology, timeouts, n);
    const many = (what: string) => (n: number) => ({ summary: `${what} ${n} transfer${n === 1 ? '' : 's'}` });
    const watch = (step: string) => ({ watch: { step, stuckAfterMs: timeouts.compensationStuckAfterMs } });
    return {
      debits: new Coalescer((items: TransferStep[]) => p.forward.debitSources.executeWithOptions(many('Debit')(items.length), [items])),
      refunds: new Coalescer((items: TransferStep[]) => p.undo.refundDebits.executeWithOptions(many('Refund')(items.length), [items]), watch('debit')),
      credits: new Coalescer((items: TransferStep[]) => p.pivot.creditDestinations.executeWithOptions(many('Credit')(items.length), [items])),
      finishes: new Coalescer((items: TransferOutcome[]) => p.undo.finishTransfers.executeWithOptions(many('Record')(items.length), [items]), watch('record-outcome')),
    };
  });
  const of = (accountId: string) => shards[shardOf(accountId, topology.ledgerShards)];
  return {
    debit: (s) => of(s.transfer.fromAccountId).debits.request(s),
    refund: (s, _summary, onStuck) => of(s.transfer.fromAccountId).refunds.request(s, { cancel: 'none', onStuck }),
    credit: (s) => of(s.transfer.toAccountId).credits.request(s, { cancel: 'unstarted' }),
    finish: (o, _summary, onStuck) => of(o.transfer.fromAccountId).finishes.request(o, { cancel: 'none', onStuck }),
    watched: true,
  };
}

export class TransferRun {
  private readonly progress = new Progress();
  private status: TransferStatus = 'RUNNING';
  private reason: FlowReason | undefined;
  private stuck = false;
  readonly record: TransferRecord;

  /** `ledger`: how the steps reach the shards; by default each step is an activity of its own. */
  constructor(
    private readonly input: TransferInput,
    private readonly report: TransferReporter,
    private readonly ledger?: LedgerSteps,
  ) {
    const { id, fromAccountId, toAccountId, amount, currency, memo } = input;
    this.record = { id, fromAccountId, toAccountId, amount, currency, memo };
  }

  get id(): string {
    return this.input.id;
  }

  get terminal(): boolean {
    return this.status !== 'RUNNING';
  }

  view(): TransferProgress {
    const { status, stuck, reason } = this;
    return { ...this.record, status: stuck ? 'FAILED' : status, reason, stuck, steps: this.progress.snapshot() };
  }

  /**
   * Runs the saga to its end. Resolves with the final view; a cancelled transfer is compensated and then the
   * cancellation is rethrown (a single-transfer run ends cancelled; a batch catches it).
   */
  async run(): Promise<TransferProgress> {
    const { input, report, record: transfer } = this;
    const { topology, timeouts, fromAccountId, toAccountId } = input;
    const onShardOf = (accountId: string) => proxiesOn(topology, timeouts, shardOf(accountId, topology.ledgerShards));
    const source = onShardOf(fromAccountId);
    const destination = onShardOf(toAccountId);
    const ledger: LedgerSteps = this.ledger ?? {
      debit: (s, summary) => source.forward.debitSource.executeWithOptions({ summary }, [s]),
      refund: (s, summary) => source.undo.refundDebit.executeWithOptions({ summary }, [s]),
      credit: (s, summary) => destination.pivot.creditDestination.executeWithOptions({ summary }, [s]),
      finish: (o, summary) => source.undo.finishTransfer.executeWithOptions({ summary }, [o]),
    };
    const onStuck = (now: boolean) => {
      this.stuck = now;
      report.status(now ? 'FAILED' : this.status, now ? 'A compensation keeps failing: operator attention needed' : 'Compensating');
    };

    const amount = money(input.amount, input.currency);
    const saga = new Saga(this.progress, { stuckAfterMs: timeouts.compensationStuckAfterMs, onStuck, watch: !ledger.watched });
    // The flow id keys the barrier rows and ledger entries: the same in both modes (a batch holds many transfers).
    const flowId = transferWorkflowId(transfer.id);
    const step = { debit: { branchId: 'debit', flowId, transfer }, credit: { branchId: 'credit', flowId, transfer } };
    const record = (final: TransferStatus, why?: FlowReason) =>
      saga.retriable('record-outcome', () => ledger.finish({ transfer, status: final, reason: why }, `Record ${final}${why ? ` (${why.code})` : ''}`, onStuck));

    try {
      report.details(`Debiting ${amount} from ${fromAccountId}`);
      await saga.step(
        'debit',
        () => ledger.debit(step.debit, `Debit ${amount} from ${fromAccountId}`),
        () => ledger.refund(step.debit, `Refund ${amount} to ${fromAccountId}`, onStuck),
      );
      report.details(`Crediting ${amount} to ${toAccountId}`);
      const credit = (proxy: typeof destination.pivot) =>
        proxy.creditDestination.executeWithOptions({ summary: `Credit ${amount} to ${toAccountId}` }, [step.credit]);
      if (patched('credit-is-pivot')) {
        await saga.pivot('credit', () => ledger.credit(step.credit, `Credit ${amount} to ${toAccountId}`));
      } else {
        // Runs recorded before the patch registered a reversal of the credit (never needed, and unsafe once spent).
        await saga.step(
          'credit',
          () => credit(destination.forward),
          () => destination.undo.reverseCredit.executeWithOptions({ summary: `Reverse credit of ${amount} on ${toAccountId}` }, [step.credit]),
        );
        saga.commit();
      }
    } catch (err) {
      const reason = (this.reason = reasonOf(err));
      log.info('transfer rejected; compensating', { transferId: transfer.id, reason: reason.code });
      report.details(`Compensating: ${reason.message}`);
      await saga.compensate();
      await record('COMPENSATED', reason);
      this.status = 'COMPENSATED';
      report.status(this.status, `Compensated: ${reason.message}`);
      if (isCancellation(err)) throw err;
      return this.view();
    }
    await record('COMPLETED');
    this.status = 'COMPLETED';
    report.status(this.status, `Completed: ${amount} moved`);
    return this.view();
  }
}
