// transferMoney: debit the source (on its shard) → credit the destination (on its shard) → record the outcome. The
// two accounts usually live on different ledger shards, on different database servers: each step is a local
// transaction on its own shard, reached through that shard's task queue.
// Step kinds: the debit is compensable (refunded); the credit is the pivot — once credited, the destination may spend
// the money at once, so a credit is never reversed: it is retried until known (it happened, or it was rejected and the
// debit is refunded → COMPENSATED with the reason); recording the outcome is retriable. A refund that keeps failing
// marks the flow FAILED for an operator while it keeps retrying.
import { isCancellation, log, patched, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { ledgerQueue, shardOf, type LedgerActivities } from '../../domains/ledger/contract';
import { money } from '../../platform/money';
import { reasonOf } from '../../platform/workflow/outcome';
import { Progress } from '../../platform/workflow/progress';
import { stepProxies } from '../../platform/workflow/proxies';
import { Saga } from '../../platform/workflow/saga';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import type { FlowReason } from '../../platform/workflow/types';
import { transferProgressQuery, type TransferInput, type TransferProgress, type TransferStatus } from './contract';

export async function transferMoney(input: TransferInput): Promise<TransferProgress> {
  const { topology, timeouts } = input;
  const onShardOf = (accountId: string) =>
    stepProxies<LedgerActivities>(ledgerQueue(topology.queuePrefix, shardOf(accountId, topology.ledgerShards)), timeouts);
  const source = onShardOf(input.fromAccountId);
  const destination = onShardOf(input.toAccountId);

  const progress = new Progress();
  let status: TransferStatus = 'RUNNING';
  let reason: FlowReason | undefined;
  let stuck = false;
  const { id, fromAccountId, toAccountId, amount: minor, currency, memo } = input;
  const view = (): TransferProgress => ({ id, fromAccountId, toAccountId, amount: minor, currency, memo, status: stuck ? 'FAILED' : status, reason, stuck, steps: progress.snapshot() });
  setHandler(transferProgressQuery, view);
  const publish = (s: TransferStatus | 'FAILED', details: string) => {
    upsertSearchAttributes([{ key: FlowStatusKey, value: s }]);
    setCurrentDetails(details);
  };
  const onStuck = (now: boolean) => {
    stuck = now;
    publish(now ? 'FAILED' : status, now ? 'A compensation keeps failing: operator attention needed' : 'Compensating');
  };

  const transfer = { id, fromAccountId, toAccountId, amount: minor, currency, memo };
  const amount = money(input.amount, input.currency);
  const saga = new Saga(progress, { stuckAfterMs: timeouts.compensationStuckAfterMs, onStuck });
  const step = { debit: { branchId: 'debit', transfer }, credit: { branchId: 'credit', transfer } };
  const record = (final: TransferStatus, why?: FlowReason) =>
    saga.retriable('record-outcome', () =>
      source.undo.finishTransfer.executeWithOptions({ summary: `Record ${final}${why ? ` (${why.code})` : ''}` }, [{ transfer, status: final, reason: why }]),
    );

  try {
    setCurrentDetails(`Debiting ${amount} from ${fromAccountId}`);
    await saga.step(
      'debit',
      () => source.forward.debitSource.executeWithOptions({ summary: `Debit ${amount} from ${fromAccountId}` }, [step.debit]),
      () => source.undo.refundDebit.executeWithOptions({ summary: `Refund ${amount} to ${fromAccountId}` }, [step.debit]),
    );
    setCurrentDetails(`Crediting ${amount} to ${toAccountId}`);
    const credit = (proxy: typeof destination.pivot) =>
      proxy.creditDestination.executeWithOptions({ summary: `Credit ${amount} to ${toAccountId}` }, [step.credit]);
    if (patched('credit-is-pivot')) {
      await saga.pivot('credit', () => credit(destination.pivot));
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
    reason = reasonOf(err);
    log.info('transfer rejected; compensating', { transferId: id, reason: reason.code });
    setCurrentDetails(`Compensating: ${reason.message}`);
    await saga.compensate();
    await record('COMPENSATED', reason);
    status = 'COMPENSATED';
    publish(status, `Compensated: ${reason.message}`);
    if (isCancellation(err)) throw err;
    return view();
  }
  await record('COMPLETED');
  status = 'COMPLETED';
  publish(status, `Completed: ${amount} moved`);
  return view();
}
