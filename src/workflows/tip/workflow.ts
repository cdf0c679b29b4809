// tipMerchant: the small third flow of the README's "Add a flow" walk-through, built from activities the services
// already serve. Debit the customer (their ledger shard; the tip is recorded as a transfer to the merchant) → credit
// the merchant (the merchant's shard) → award points (loyalty). The debit is compensable; the credit is retried until
// its outcome is known (never cancelled): refused by the merchant's account (BalanceLimit, CurrencyMismatch: a
// business rejection, so it did not happen) → the debit is refunded and the tip COMPENSATED; done → the tip is paid,
// and the points are retried until awarded. Runs recorded before refunds retried a refused credit for ever.
import { ActivityFailure, ApplicationFailure, isCancellation, patched, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { ledgerQueue, merchantAccount, shardOf, type LedgerActivities } from '../../activities/ledger/contract';
import { loyaltyQueue, type LoyaltyActivities } from '../../activities/loyalty/contract';
import { money } from '../../platform/money';
import { reasonOf } from '../../platform/workflow/outcome';
import { Progress } from '../../platform/workflow/progress';
import { stepProxies } from '../../platform/workflow/proxies';
import { Saga } from '../../platform/workflow/saga';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import type { FlowReason } from '../../platform/workflow/types';
import { tipProgressQuery, type TipInput, type TipProgress, type TipStatus } from './contract';

/** A business rejection of the credit, as a value (the debit is then refunded); anything else is retried. */
function refusalOf(err: unknown): ActivityFailure {
  const refusal = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable;
  if (refusal && patched(REFUSED_CREDIT_REFUNDED)) return err;
  throw err;
}

const REFUSED_CREDIT_REFUNDED = 'tip-refused-credit-refunded';

export async function tipMerchant(input: TipInput): Promise<TipProgress> {
  const { topology, timeouts } = input;
  const merchant = merchantAccount(input.merchantAccountId, input.currency);
  const ledgerOf = (accountId: string) =>
    stepProxies<LedgerActivities>(ledgerQueue(topology.queuePrefix, shardOf(accountId, topology.ledgerShards)), timeouts);
  const payer = ledgerOf(input.fromAccountId);
  const loyalty = stepProxies<LoyaltyActivities>(loyaltyQueue(topology.queuePrefix), timeouts);

  const progress = new Progress();
  const points = Math.floor(input.amount / input.pointsPerMinorUnits);
  let status: TipStatus = 'RUNNING';
  let reason: FlowReason | undefined;
  let stuck = false;
  const view = (): TipProgress => ({
    id: input.id,
    fromAccountId: input.fromAccountId,
    customerId: input.customerId,
    amount: input.amount,
    currency: input.currency,
    points,
    status: stuck ? 'FAILED' : status,
    reason,
    stuck,
    steps: progress.snapshot(),
  });
  setHandler(tipProgressQuery, view);
  const publish = (details: string) => {
    upsertSearchAttributes([{ key: FlowStatusKey, value: stuck ? 'FAILED' : status }]);
    setCurrentDetails(details);
  };
  const saga = new Saga(progress, { stuckAfterMs: timeouts.compensationStuckAfterMs, onStuck: (now) => ((stuck = now), publish('Retrying a failing step')) });

  const amount = money(input.amount, input.currency);
  const transfer = { id: input.id, fromAccountId: input.fromAccountId, toAccountId: merchant, amount: input.amount, currency: input.currency, memo: 'tip' };
  const debit = { branchId: 'debit', transfer };
  /** The debit undone (refunded if it happened) and the tip recorded COMPENSATED with the reason. */
  const compensated = async (err: unknown) => {
    reason = reasonOf(err);
    await saga.compensate();
    await saga.always('record-outcome', () => payer.settle.finishTransfer.executeWithOptions({ summary: 'Record COMPENSATED' }, [{ transfer, status: 'COMPENSATED', reason }]));
    status = 'COMPENSATED';
    publish(`Compensated: ${reason.message}`);
    return view();
  };
  try {
    await saga.step(
      'debit',
      () => payer.forward.debitSource.executeWithOptions({ summary: `Debit ${amount} from ${input.fromAccountId}` }, [debit]),
      () => payer.undo.refundDebit.executeWithOptions({ summary: `Refund ${amount} to ${input.fromAccountId}` }, [debit]),
    );
  } catch (err) {
    const result = await compensated(err);
    if (isCancellation(err)) throw err;
    return result;
  }
  const refused = await saga.always('merchant-credit', () =>
    ledgerOf(merchant)
      .settle.creditMerchant.executeWithOptions({ summary: `Credit ${amount} to ${merchant}` }, [
        { branchId: 'merchant-credit', orderId: input.id, merchantAccountId: merchant, amount: input.amount, currency: input.currency },
      ])
      .then(() => undefined, refusalOf),
  );
  if (refused) return compensated(refused);
  saga.commit(); // the merchant has the money: from here the tip only goes forward
  await saga.always('award-points', () =>
    loyalty.settle.awardPoints.executeWithOptions({ summary: `Award ${points} points` }, [{ branchId: 'points', orderId: `tip-${input.id}`, customerId: input.customerId, points }]),
  );
  await saga.always('record-outcome', () => payer.settle.finishTransfer.executeWithOptions({ summary: 'Record COMPLETED' }, [{ transfer, status: 'COMPLETED' }]));
  status = 'COMPLETED';
  publish(`Tipped ${amount}, ${points} points awarded`);
  return view();
}
