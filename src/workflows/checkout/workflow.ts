// checkoutOrder, across four services on two database servers: price the lines (inventory) and read the payment
// account (its ledger shard) → create the order (orders) → TCC try stock for every line in parallel (inventory) → TCC
// try payment, a hold on the payer's shard → approval when the total is over the threshold → confirm: commit stock,
// capture the payment, credit the merchant (on the merchant's shard), confirm the order (which announces
// `order.confirmed`; loyalty awards the points from that event — runs recorded before did it as a step). Any
// rejection, a cancel request or the approval timeout cancels every TCC participant that may have tried → CANCELLED
// with the reason. Each domain is reached only through its own task queue.
// Step kinds: pricing, creation and the tries are compensable (the tries' cancels undo them); the pivot is the
// decision to confirm — taken once every try held and the approval (if any) came — after which every step (confirms,
// the merchant's credit, the points, the order's CONFIRMED) is retriable: retried until done, never undone.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { inventoryQueue, type InventoryActivities, type PricedItems } from '../../activities/inventory/contract';
import { ledgerQueue, merchantAccount, shardOf, type LedgerActivities } from '../../activities/ledger/contract';
import { loyaltyQueue, type LoyaltyActivities } from '../../activities/loyalty/contract';
import { ordersQueue, type CreatedOrder, type OrderActivities, type OrderStatus } from '../../activities/orders/contract';
import { money } from '../../platform/money';
import { reasonOf } from '../../platform/workflow/outcome';
import { Progress } from '../../platform/workflow/progress';
import { stepProxies } from '../../platform/workflow/proxies';
import { Saga } from '../../platform/workflow/saga';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { Tcc, type Participant } from '../../platform/workflow/tcc';
import type { FlowReason } from '../../platform/workflow/types';
import {
  approveOrderUpdate,
  cancelOrderUpdate,
  CheckoutErrors,
  orderProgressQuery,
  type CancelOrderArgs,
  type OrderInput,
  type OrderProgress,
} from './contract';

type Phase = 'trying' | 'awaiting-approval' | 'confirming' | 'cancelling' | 'done';

export async function checkoutOrder(input: OrderInput): Promise<OrderProgress> {
  const run = new CheckoutRun(input);
  run.handleMessages();
  try {
    await run.work.run(() => run.tryEverything());
    run.throwIfCancelRequested();
  } catch (err) {
    return run.cancel(err);
  }
  return run.confirm();
}

/** One checkout's state, its proxies and its phases; checkoutOrder runs them in order. */
class CheckoutRun {
  readonly work = new CancellationScope();
  private readonly progress = new Progress();
  private readonly saga: Saga;
  private readonly tcc: Tcc;
  private readonly steps: ReturnType<typeof checkoutSteps>;
  private phase: Phase = 'trying';
  private status: OrderStatus = 'PENDING';
  private reason: FlowReason | undefined;
  private created: CreatedOrder | undefined;
  private stuck = false;
  private approved = false;
  private cancelRequest: string | undefined;

  constructor(private readonly input: OrderInput) {
    this.steps = checkoutSteps(input);
    const onStuck = (now: boolean) => {
      this.stuck = now;
      this.publish(now ? 'A compensation or confirm keeps failing: operator attention needed' : 'Recovered; continuing');
    };
    this.saga = new Saga(this.progress, { stuckAfterMs: input.timeouts.compensationStuckAfterMs, onStuck });
    this.tcc = new Tcc(this.saga);
  }

  view(): OrderProgress {
    const { input, created, stuck, status, reason } = this;
    return {
      id: input.id,
      customerId: input.customerId,
      paymentAccountId: input.paymentAccountId,
      items: created?.items ?? input.items,
      status: stuck ? 'FAILED' : status,
      reason,
      stuck,
      total: created?.total,
      currency: created?.currency,
      steps: this.progress.snapshot(),
    };
  }

  private publish(details: string) {
    upsertSearchAttributes([{ key: FlowStatusKey, value: this.stuck ? 'FAILED' : this.status }]);
    setCurrentDetails(details);
  }

  /** The progress query, approval and cancel requests. */
  handleMessages() {
    setHandler(orderProgressQuery, () => this.view());
    setHandler(
      approveOrderUpdate,
      () => {
        this.approved = true;
        return this.view();
      },
      {
        validator: () => {
          if (this.phase !== 'awaiting-approval' || this.approved) throw new Error(`order is ${this.status}, not awaiting approval`);
        },
      },
    );
    setHandler(
      cancelOrderUpdate,
      (args: CancelOrderArgs) => {
        this.cancelRequest = args?.reason?.trim() || 'cancelled by request';
        this.work.cancel();
        return this.view();
      },
      {
        validator: (_args: CancelOrderArgs) => {
          if (this.phase !== 'trying' && this.phase !== 'awaiting-approval') throw new Error(`order is ${this.status} and can no longer be cancelled`);
          if (this.cancelRequest) throw new Error('order is already being cancelled');
        },
      },
    );
  }

  /** Price and create, try stock and payment, wait for approval when needed: everything before the pivot. */
  async tryEverything() {
    const { input, tcc, steps } = this;
    setCurrentDetails(`Pricing ${input.items.length} line(s)`);
    // A cancel request must not interrupt the creation: cancelled in flight, the attempt still commits on its worker
    // after the flow has ended (a PENDING order row for ever), or never runs (a CANCELLED order with no row at all).
    // Pricing and the creation are short; the cancel takes effect at the tries, scheduled in the cancelled scope.
    const priced = (this.created = await CancellationScope.nonCancellable(() => this.priceAndCreate()));
    setCurrentDetails(`Reserving stock for ${priced.items.length} line(s)`);
    await tcc.tryAll(priced.items.map((line, i) => steps.stock(i + 1, line.sku, line.quantity)));
    const total = money(priced.total, priced.currency);
    setCurrentDetails(`Holding ${total} on ${input.paymentAccountId}`);
    await tcc.tryAll([steps.payment(priced, total)]);
    if (priced.total > input.policy.approvalThreshold) await this.awaitApproval(total);
  }

  private async priceAndCreate(): Promise<CreatedOrder> {
    const { input, saga, steps } = this;
    const [priced, account] = await saga.parallel<PricedItems | { currency: string }>([
      { name: 'price-items', run: () => steps.inventory.forward.priceItems.executeWithOptions({ summary: `Price ${input.items.length} line(s)` }, [{ items: input.items }]) },
      {
        name: 'read-account',
        run: () => steps.payer.forward.describeAccount.executeWithOptions({ summary: `Read account ${input.paymentAccountId}` }, [{ accountId: input.paymentAccountId }]),
      },
    ]);
    const order = {
      id: input.id,
      customerId: input.customerId,
      paymentAccountId: input.paymentAccountId,
      items: (priced as PricedItems).items,
      currency: priced.currency,
      accountCurrency: account.currency,
    };
    return saga.step('create-order', () =>
      steps.orders.forward.createOrder.executeWithOptions({ summary: `Create order ${input.id} (${order.items.length} lines)` }, [{ branchId: 'create', order }]),
    );
  }

  private async awaitApproval(total: string) {
    this.phase = 'awaiting-approval';
    this.status = 'AWAITING_APPROVAL';
    this.publish(`Awaiting approval of ${total}`);
    await this.steps.orders.forward.setOrderStatus.executeWithOptions({ summary: 'Mark AWAITING_APPROVAL' }, [{ orderId: this.input.id, status: this.status }]);
    if (!(await condition(() => this.approved, this.input.policy.approvalTimeoutMs))) {
      throw ApplicationFailure.create({ type: CheckoutErrors.ApprovalTimedOut, message: 'approval timed out', nonRetryable: true });
    }
  }

  throwIfCancelRequested() {
    if (this.cancelRequest) throw ApplicationFailure.create({ type: CheckoutErrors.OrderCancelled, message: this.cancelRequest });
  }

  /** Cancels every participant that may have tried and records CANCELLED with the reason. */
  async cancel(err: unknown): Promise<OrderProgress> {
    const { input, cancelRequest } = this;
    this.phase = 'cancelling';
    const reason = (this.reason = cancelRequest ? { code: CheckoutErrors.OrderCancelled, message: cancelRequest } : reasonOf(err));
    setCurrentDetails(`Cancelling: ${reason.message}`);
    await this.tcc.cancelAll();
    this.status = 'CANCELLED';
    // Also when the order was refused before its creation (its row is written then, unpriced) or the creation seemed to
    // fail (one that committed but whose result was lost still gets its status): every accepted order ends with a row.
    const header = { id: input.id, customerId: input.customerId, paymentAccountId: input.paymentAccountId, items: input.items };
    const final = { orderId: input.id, status: this.status, reason, order: header };
    await this.saga.always('record-outcome', () =>
      this.steps.orders.undo.setOrderStatus.executeWithOptions({ summary: `Mark CANCELLED (${final.reason.code})` }, [final]),
    );
    this.phase = 'done';
    this.publish(`Cancelled: ${reason.message}`);
    if (isCancellation(err) && !cancelRequest) throw err;
    return this.view();
  }

  /** Past the pivot: confirm stock and payment, credit the merchant, confirm the order; each retried until done. */
  async confirm(): Promise<OrderProgress> {
    const { input, saga, steps } = this;
    const { policy } = input;
    this.phase = 'confirming';
    const priced = this.created!;
    const total = money(priced.total, priced.currency);
    setCurrentDetails(`Confirming payment and stock`);
    const merchant = merchantAccount(policy.merchantAccountId, priced.currency, input.id, policy.merchantSubAccounts);
    const points = Math.floor(priced.total / policy.pointsPerMinorUnits);
    // Points are loyalty's reaction to `order.confirmed` now (eventual: the order does not wait for them). Runs recorded
    // before that replay their award-points step.
    const pointsByEvent = patched('points-by-event');
    await Promise.all([
      this.tcc.confirmAll(),
      // The sale lands on the merchant's (sub-)account, on its own shard; like a confirm, it is past the point of no
      // return and retried until it succeeds.
      saga.retriable('merchant-credit', () =>
        steps.ledgerOf(merchant).undo.creditMerchant.executeWithOptions({ summary: `Credit ${total} to ${merchant}` }, [
          { branchId: 'merchant-credit', orderId: input.id, merchantAccountId: merchant, amount: priced.total, currency: priced.currency },
        ]),
      ),
      ...(pointsByEvent
        ? []
        : [
            saga.retriable('award-points', () =>
              steps.loyalty.undo.awardPoints.executeWithOptions({ summary: `Award ${points} points to ${input.customerId}` }, [
                { branchId: 'points', orderId: input.id, customerId: input.customerId, points },
              ]),
            ),
          ]),
    ]);
    await saga.retriable('confirm-order', () =>
      steps.orders.undo.confirmOrder.executeWithOptions({ summary: 'Confirm the order' }, [{ branchId: 'confirm', orderId: input.id }]),
    );
    this.status = 'CONFIRMED';
    this.phase = 'done';
    this.publish(pointsByEvent ? `Confirmed: ${total} paid; ${points} points follow (order.confirmed)` : `Confirmed: ${total} paid, ${points} points awarded`);
    return this.view();
  }
}

/** The services a checkout reaches, each through its own task queue, and its two kinds of TCC participant. */
function checkoutSteps(input: OrderInput) {
  const { timeouts, topology } = input;
  const prefix = topology.queuePrefix;
  const ledgerOf = (accountId: string) => stepProxies<LedgerActivities>(ledgerQueue(prefix, shardOf(accountId, topology.ledgerShards)), timeouts);
  const inventory = stepProxies<InventoryActivities>(inventoryQueue(prefix), timeouts);
  const orders = stepProxies<OrderActivities>(ordersQueue(prefix), timeouts);
  const loyalty = stepProxies<LoyaltyActivities>(loyaltyQueue(prefix), timeouts);
  const payer = ledgerOf(input.paymentAccountId);
  return {
    ledgerOf,
    inventory,
    orders,
    loyalty,
    payer,
    stock(lineNo: number, sku: string, quantity: number): Participant {
      const step = { branchId: `stock-${lineNo}`, sku, quantity };
      return {
        name: `stock-${lineNo}`,
        try: () => inventory.forward.reserveStock.executeWithOptions({ summary: `Reserve ${quantity} × ${sku}` }, [step]),
        confirm: () => inventory.undo.commitStock.executeWithOptions({ summary: `Commit ${quantity} × ${sku}` }, [step]),
        cancel: () => inventory.undo.releaseStock.executeWithOptions({ summary: `Release ${quantity} × ${sku}` }, [step]),
      };
    },
    payment(priced: CreatedOrder, total: string): Participant {
      const step = { branchId: 'payment', payment: { orderId: input.id, accountId: input.paymentAccountId, amount: priced.total, currency: priced.currency } };
      return {
        name: 'payment',
        try: () => payer.forward.holdPayment.executeWithOptions({ summary: `Hold ${total} on ${input.paymentAccountId}` }, [step]),
        confirm: () => payer.undo.capturePayment.executeWithOptions({ summary: `Capture ${total} from ${input.paymentAccountId}` }, [step]),
        cancel: () => payer.undo.releasePayment.executeWithOptions({ summary: `Release ${total} on ${input.paymentAccountId}` }, [step]),
      };
    },
  };
}
