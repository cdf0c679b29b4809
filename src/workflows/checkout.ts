// checkoutOrder: create the order → TCC try stock for every line in parallel → TCC try payment (freeze) → approval
// when the total is over the threshold → confirm payment and stock → award points and CONFIRM. Any rejection, a cancel
// request or the approval timeout cancels every TCC participant that may have tried → CANCELLED with the reason.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineUpdate,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { CreatedOrder } from '../activities/orders';
import { BusinessErrors } from '../shared/errors';
import type { CancelOrderArgs, FlowReason, OrderInput, OrderProgress, OrderStatus } from '../shared/flows';
import { FlowStatusKey } from '../shared/search-attributes';
import { flowActivities, money } from './proxies';
import { reasonOf } from './outcome';
import { Progress } from './progress';
import { Saga } from './saga';
import { Tcc, type Participant } from './tcc';

export const orderProgressQuery = defineQuery<OrderProgress>('progress');
export const approveOrderUpdate = defineUpdate<OrderProgress>('approve');
export const cancelOrderUpdate = defineUpdate<OrderProgress, [CancelOrderArgs]>('cancel');

type Phase = 'trying' | 'awaiting-approval' | 'confirming' | 'cancelling' | 'done';

export async function checkoutOrder(input: OrderInput): Promise<OrderProgress> {
  const { forward, undo } = flowActivities(input.timeouts);
  const { policy } = input;
  const progress = new Progress();
  let phase: Phase = 'trying';
  let status: OrderStatus = 'PENDING';
  let reason: FlowReason | undefined;
  let created: CreatedOrder | undefined;
  let stuck = false;
  let approved = false;
  let cancelRequest: string | undefined;

  const view = (): OrderProgress => ({
    id: input.id,
    customerId: input.customerId,
    paymentAccountId: input.paymentAccountId,
    items: created?.items ?? input.items,
    status: stuck ? 'FAILED' : status,
    reason,
    stuck,
    total: created?.total,
    currency: created?.currency,
    steps: progress.snapshot(),
  });
  const publish = (details: string) => {
    upsertSearchAttributes([{ key: FlowStatusKey, value: stuck ? 'FAILED' : status }]);
    setCurrentDetails(details);
  };
  const onStuck = (now: boolean) => {
    stuck = now;
    publish(now ? 'A compensation or confirm keeps failing: operator attention needed' : 'Recovered; continuing');
  };

  const work = new CancellationScope();
  setHandler(orderProgressQuery, view);
  setHandler(
    approveOrderUpdate,
    () => {
      approved = true;
      return view();
    },
    {
      validator: () => {
        if (phase !== 'awaiting-approval' || approved) throw new Error(`order is ${status}, not awaiting approval`);
      },
    },
  );
  setHandler(
    cancelOrderUpdate,
    (args: CancelOrderArgs) => {
      cancelRequest = args?.reason?.trim() || 'cancelled by request';
      work.cancel();
      return view();
    },
    {
      validator: (_args: CancelOrderArgs) => {
        if (phase !== 'trying' && phase !== 'awaiting-approval') throw new Error(`order is ${status} and can no longer be cancelled`);
        if (cancelRequest) throw new Error('order is already being cancelled');
      },
    },
  );

  const saga = new Saga(progress, { stuckAfterMs: input.timeouts.compensationStuckAfterMs, onStuck });
  const tcc = new Tcc(saga);
  const order = { id: input.id, customerId: input.customerId, paymentAccountId: input.paymentAccountId, items: input.items };

  try {
    await work.run(async () => {
      setCurrentDetails(`Creating order of ${input.items.length} line(s)`);
      const create = () =>
        forward.createOrder.executeWithOptions({ summary: `Create order ${input.id} (${input.items.length} lines)` }, [
          { branchId: 'create', order },
        ]);
      // A cancel request must not interrupt the creation: cancelled in flight, the attempt still commits on its worker
      // after the flow has ended (a PENDING order row for ever), or never runs (a CANCELLED order with no row at all).
      // It is one short transaction; the cancel takes effect at the tries, which are scheduled in the cancelled scope.
      created = await saga.step('create-order', () =>
        patched('create-order-not-cancellable') ? CancellationScope.nonCancellable(create) : create(),
      );
      const priced = created;
      setCurrentDetails(`Reserving stock for ${priced.items.length} line(s)`);
      await tcc.tryAll(priced.items.map((line, i) => stockParticipant(i + 1, line.sku, line.quantity)));
      const total = money(priced.total, priced.currency);
      setCurrentDetails(`Freezing ${total} on ${input.paymentAccountId}`);
      await tcc.tryAll([paymentParticipant(priced, total)]);
      if (priced.total > policy.approvalThreshold) {
        phase = 'awaiting-approval';
        status = 'AWAITING_APPROVAL';
        publish(`Awaiting approval of ${total}`);
        await forward.setOrderStatus.executeWithOptions({ summary: 'Mark AWAITING_APPROVAL' }, [{ orderId: input.id, status }]);
        if (!(await condition(() => approved, policy.approvalTimeoutMs))) {
          throw ApplicationFailure.create({ type: BusinessErrors.ApprovalTimedOut, message: 'approval timed out', nonRetryable: true });
        }
      }
    });
    if (cancelRequest) throw ApplicationFailure.create({ type: BusinessErrors.OrderCancelled, message: cancelRequest });
  } catch (err) {
    phase = 'cancelling';
    reason = cancelRequest ? { code: BusinessErrors.OrderCancelled, message: cancelRequest } : reasonOf(err);
    setCurrentDetails(`Cancelling: ${reason.message}`);
    await tcc.cancelAll();
    status = 'CANCELLED';
    const final = { orderId: input.id, status, reason };
    await saga.always('record-outcome', () => undo.setOrderStatus.executeWithOptions({ summary: `Mark CANCELLED (${final.reason.code})` }, [final]));
    phase = 'done';
    publish(`Cancelled: ${reason.message}`);
    if (isCancellation(err) && !cancelRequest) throw err;
    return view();
  }

  phase = 'confirming';
  const priced = created!;
  setCurrentDetails(`Confirming payment and stock`);
  await tcc.confirmAll();
  const points = Math.floor(priced.total / policy.pointsPerMinorUnits);
  await saga.always('complete-order', () =>
    undo.completeOrder.executeWithOptions({ summary: `Award ${points} points and confirm` }, [
      { branchId: 'complete', orderId: input.id, customerId: input.customerId, points },
    ]),
  );
  status = 'CONFIRMED';
  phase = 'done';
  publish(`Confirmed: ${money(priced.total, priced.currency)} paid, ${points} points awarded`);
  return view();

  function stockParticipant(lineNo: number, sku: string, quantity: number): Participant {
    const step = { branchId: `stock-${lineNo}`, sku, quantity };
    return {
      name: `stock-${lineNo}`,
      try: () => forward.tryReserveStock.executeWithOptions({ summary: `Reserve ${quantity} × ${sku}` }, [step]),
      confirm: () => undo.confirmStock.executeWithOptions({ summary: `Commit ${quantity} × ${sku}` }, [step]),
      cancel: () => undo.cancelStock.executeWithOptions({ summary: `Release ${quantity} × ${sku}` }, [step]),
    };
  }

  function paymentParticipant(priced: CreatedOrder, total: string): Participant {
    const step = {
      branchId: 'payment',
      orderId: input.id,
      accountId: input.paymentAccountId,
      amount: priced.total,
      currency: priced.currency,
      merchantAccountId: policy.merchantAccountId,
    };
    return {
      name: 'payment',
      try: () => forward.tryPayment.executeWithOptions({ summary: `Freeze ${total} on ${input.paymentAccountId}` }, [step]),
      confirm: () => undo.confirmPayment.executeWithOptions({ summary: `Capture ${total} to the merchant` }, [step]),
      cancel: () => undo.cancelPayment.executeWithOptions({ summary: `Release ${total} on ${input.paymentAccountId}` }, [step]),
    };
  }
}
