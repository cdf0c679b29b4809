// transferMoney: debit the source → credit the destination. A rejection after the debit refunds it (COMPENSATED with
// the reason); a compensation that keeps failing marks the flow FAILED for an operator while it keeps retrying.
import {
  defineQuery,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { FlowReason, TransferInput, TransferProgress, TransferStatus } from '../shared/flows';
import { FlowStatusKey } from '../shared/search-attributes';
import { flowActivities, money } from './proxies';
import { reasonOf } from './outcome';
import { Progress } from './progress';
import { Saga } from './saga';

export const transferProgressQuery = defineQuery<TransferProgress>('progress');

export async function transferMoney(input: TransferInput): Promise<TransferProgress> {
  const { forward, undo } = flowActivities(input.timeouts, { local: input.localActivities === true });
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

  const transfer = { id: input.id, fromAccountId: input.fromAccountId, toAccountId: input.toAccountId, amount: input.amount, currency: input.currency, memo: input.memo };
  const amount = money(input.amount, input.currency);
  const saga = new Saga(progress, { stuckAfterMs: input.timeouts.compensationStuckAfterMs, onStuck });
  const step = { debit: { branchId: 'debit', transfer }, credit: { branchId: 'credit', transfer } };

  try {
    setCurrentDetails(`Debiting ${amount} from ${input.fromAccountId}`);
    await saga.step(
      'debit',
      () => forward.debitSource.executeWithOptions({ summary: `Debit ${amount} from ${input.fromAccountId}` }, [step.debit]),
      () => undo.refundDebit.executeWithOptions({ summary: `Refund ${amount} to ${input.fromAccountId}` }, [step.debit]),
    );
    setCurrentDetails(`Crediting ${amount} to ${input.toAccountId}`);
    await saga.step(
      'credit',
      () => forward.creditDestination.executeWithOptions({ summary: `Credit ${amount} to ${input.toAccountId}` }, [step.credit]),
      () => undo.reverseCredit.executeWithOptions({ summary: `Reverse credit of ${amount} on ${input.toAccountId}` }, [step.credit]),
    );
    status = 'COMPLETED';
    publish(status, `Completed: ${amount} moved`);
    return view();
  } catch (err) {
    reason = reasonOf(err);
    log.info('transfer rejected; compensating', { transferId: input.id, reason: reason.code });
    setCurrentDetails(`Compensating: ${reason.message}`);
    await saga.compensate();
    status = 'COMPENSATED';
    await saga.always('record-outcome', () => undo.finishTransfer.executeWithOptions({ summary: `Record COMPENSATED (${reason!.code})` }, [{ transfer, status, reason }]));
    publish(status, `Compensated: ${reason.message}`);
    if (isCancellation(err)) throw err;
    return view();
  }
}
