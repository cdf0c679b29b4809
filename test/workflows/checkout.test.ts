// checkoutOrder through the real workers, server and MariaDB servers: every path, each domain's rows read in the store
// that owns them (stock in the inventory, the order row in orders, points in loyalty, money on each account's ledger
// shard), the payer on purpose on another shard than the merchant, and money and stock conserved.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { shardOf } from '../../src/activities/ledger/contract';
import { findOrder } from '../../src/activities/orders/reads';
import { approveOrderUpdate, cancelOrderUpdate, orderProgressQuery, orderWorkflowId, type OrderInput, type OrderLine, type OrderProgress } from '../../src/workflows/checkout/contract';
import { select } from '../../src/platform/db/sql';
import type { Topology } from '../../src/platform/workflow/types';
import {
  account,
  createAccount,
  createFlowsEnv,
  createProduct,
  entriesOf,
  fastTimeouts,
  ledgerDb,
  ledgerSum,
  moneyIn,
  pointsOf,
  eventualPoints,
  product,
  uid,
  withWorker,
  type FlowsEnv,
} from '../helpers/env';
import { until } from '../helpers/wait';

// Points follow order.confirmed through the broker, shared with every other file's flows: under a loaded full suite
// they can take a while, so the tests that wait for them get a longer budget.
vi.setConfig({ testTimeout: 150_000 });

const policy = { approvalThreshold: 1_000_000, approvalTimeoutMs: 60_000, pointsPerMinorUnits: 100, merchantAccountId: 'merchant' };

describe('checkoutOrder', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  const shards = () => ctx.stores.of('ledger').length;
  /** The shard of the migrated merchant account (merchant-USD), and one that is not it. */
  const merchantShard = () => shardOf('merchant-USD', shards());
  const otherShard = () => (merchantShard() + 1) % shards();

  /** A merchant id of this test only (its USD account is opened on the first sale), whose account lands on `shard`. */
  function merchantOn(shard: number): string {
    for (;;) {
      const id = uid('m-');
      if (shardOf(`${id}-USD`, shards()) === shard) return id;
    }
  }

  type StartInput = { customerId?: string; paymentAccountId: string; items: OrderLine[]; policy?: Partial<OrderInput['policy']> };

  function start(taskQueue: string, topology: Topology, input: StartInput) {
    const id = uid('o-');
    const args: OrderInput = {
      id,
      customerId: input.customerId ?? uid('cust-'),
      paymentAccountId: input.paymentAccountId,
      items: input.items,
      policy: { ...policy, ...input.policy },
      timeouts: fastTimeouts,
      topology,
    };
    return ctx.env.client.workflow.start('checkoutOrder', { taskQueue, workflowId: orderWorkflowId(id), args: [args] }).then((handle) => Object.assign(handle, { orderId: id }));
  }

  /** Runs one order to its end on fresh workers. */
  async function checkout(input: StartInput): Promise<{ id: string; result: OrderProgress }> {
    return withWorker(ctx, async (taskQueue, { topology }) => {
      const handle = await start(taskQueue, topology, input);
      return { id: handle.orderId, result: (await handle.result()) as OrderProgress };
    });
  }

  const order = (id: string) => findOrder(ctx.stores.db('orders'), id);
  const steps = (r: OrderProgress) => r.steps.map((s) => [s.name, s.state]);
  async function payment(accountId: string, orderId: string) {
    const [row] = await select<{ state: string; amount: number }>(ledgerDb(ctx, accountId), 'SELECT state, amount FROM payments WHERE order_id = ?', [orderId]);
    return row && { state: row.state, amount: Number(row.amount) };
  }

  it('when stock and funds suffice (payer and merchant on different shards), then it is CONFIRMED in every domain', async () => {
    const payer = await createAccount(ctx, 100_000, 'USD', { shard: otherShard() });
    // The payment is held on the payer's shard, the sale lands on the merchant's: two databases (two servers in `npm test`).
    expect(ledgerDb(ctx, payer)).not.toBe(ledgerDb(ctx, 'merchant-USD'));
    const [a, b] = [await createProduct(ctx, 1_500, 10), await createProduct(ctx, 700, 5)];
    const customerId = uid('cust-');
    const merchantBefore = (await account(ctx, 'merchant-USD')).balance;
    const { id, result } = await checkout({ customerId, paymentAccountId: payer, items: [{ sku: a, quantity: 2 }, { sku: b, quantity: 5 }] });

    expect(result).toMatchObject({ status: 'CONFIRMED', total: 6_500, currency: 'USD' });
    expect(steps(result)).toEqual([
      ['price-items', 'done'],
      ['read-account', 'done'],
      ['create-order', 'done'],
      ['stock-1:try', 'done'],
      ['stock-2:try', 'done'],
      ['payment:try', 'done'],
      ['stock-1:confirm', 'done'],
      ['stock-2:confirm', 'done'],
      ['payment:confirm', 'done'],
      ['merchant-credit', 'done'],
      ['confirm-order', 'done'],
    ]);
    // inventory
    expect(await product(ctx, a)).toEqual({ stock: 8, reserved: 0 });
    expect(await product(ctx, b)).toEqual({ stock: 0, reserved: 0 });
    // orders
    expect(await order(id)).toMatchObject({
      status: 'CONFIRMED',
      total: 6_500,
      currency: 'USD',
      customerId,
      paymentAccountId: payer,
      reasonCode: null,
      items: [
        { sku: a, quantity: 2, price: 1_500 },
        { sku: b, quantity: 5, price: 700 },
      ],
    });
    // the payer's shard: held, then captured; its ledger still sums to its balance
    expect(await account(ctx, payer)).toEqual({ balance: 93_500, frozen: 0 });
    expect(await payment(payer, id)).toEqual({ state: 'CAPTURED', amount: 6_500 });
    expect(await ledgerSum(ctx, payer)).toBe(93_500);
    // the merchant's shard: the sale, once (other test files may sell to merchant-USD at the same time, hence ≥)
    expect(await entriesOf(ctx, 'merchant-USD', orderWorkflowId(id))).toEqual([{ step: 'merchant-credit', amount: 6_500 }]);
    expect((await account(ctx, 'merchant-USD')).balance - merchantBefore).toBeGreaterThanOrEqual(6_500);
    // loyalty
    expect(await eventualPoints(ctx, customerId, 65)).toBe(65);
  });

  it('when payer and merchant share a shard, then it is CONFIRMED the same way and money is conserved', async () => {
    const payer = await createAccount(ctx, 10_000, 'USD', { shard: 1 });
    const merchantId = merchantOn(1);
    const merchant = `${merchantId}-USD`;
    expect(ledgerDb(ctx, payer)).toBe(ledgerDb(ctx, merchant));
    const sku = await createProduct(ctx, 2_500, 3);
    const customerId = uid('cust-');
    const { id, result } = await checkout({ customerId, paymentAccountId: payer, items: [{ sku, quantity: 2 }], policy: { merchantAccountId: merchantId } });
    expect(result).toMatchObject({ status: 'CONFIRMED', total: 5_000 });
    expect(await account(ctx, payer)).toEqual({ balance: 5_000, frozen: 0 });
    // The merchant account of a merchant that never sold before is opened by its first sale.
    expect(await account(ctx, merchant)).toEqual({ balance: 5_000, frozen: 0 });
    expect(await moneyIn(ctx, [payer, merchant])).toBe(10_000);
    expect(await product(ctx, sku)).toEqual({ stock: 1, reserved: 0 });
    expect((await order(id))?.status).toBe('CONFIRMED');
    expect(await eventualPoints(ctx, customerId, 50)).toBe(50);
  });

  it('when one line of several is out of stock, then it is CANCELLED and nothing stays reserved or frozen', async () => {
    const payer = await createAccount(ctx, 100_000, 'USD', { shard: otherShard() });
    const [a, b, c] = [await createProduct(ctx, 100, 10), await createProduct(ctx, 100, 1), await createProduct(ctx, 100, 10)];
    const customerId = uid('cust-');
    const { id, result } = await checkout({ customerId, paymentAccountId: payer, items: [{ sku: a, quantity: 3 }, { sku: b, quantity: 2 }, { sku: c, quantity: 1 }] });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'OutOfStock' } });
    expect(steps(result)).toEqual([
      ['price-items', 'done'],
      ['read-account', 'done'],
      ['create-order', 'done'],
      ['stock-1:try', 'compensated'],
      ['stock-2:try', 'compensated'],
      ['stock-3:try', 'compensated'],
      ['record-outcome', 'done'],
    ]);
    expect(result.steps.find((s) => s.name === 'stock-2:try')?.error).toMatch(/not enough stock/);
    expect(await product(ctx, a)).toEqual({ stock: 10, reserved: 0 });
    expect(await product(ctx, b)).toEqual({ stock: 1, reserved: 0 });
    expect(await product(ctx, c)).toEqual({ stock: 10, reserved: 0 });
    expect(await order(id)).toMatchObject({ status: 'CANCELLED', reasonCode: 'OutOfStock', total: 600 });
    // The payment was never tried.
    expect(await account(ctx, payer)).toEqual({ balance: 100_000, frozen: 0 });
    expect(await payment(payer, id)).toBeUndefined();
    expect(await pointsOf(ctx, customerId)).toBe(0);
  });

  it('when the payer lacks funds, then it is CANCELLED and the reserved stock is released', async () => {
    const payer = await createAccount(ctx, 50, 'USD', { shard: otherShard() });
    const sku = await createProduct(ctx, 100, 3);
    const customerId = uid('cust-');
    const { id, result } = await checkout({ customerId, paymentAccountId: payer, items: [{ sku, quantity: 1 }] });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'InsufficientFunds' } });
    expect(result.steps.find((s) => s.name === 'stock-1:try')?.state).toBe('compensated');
    expect(result.steps.find((s) => s.name === 'payment:try')?.state).toBe('compensated');
    expect(await product(ctx, sku)).toEqual({ stock: 3, reserved: 0 });
    expect(await account(ctx, payer)).toEqual({ balance: 50, frozen: 0 });
    expect(await payment(payer, id)).toBeUndefined();
    expect(await ledgerSum(ctx, payer)).toBe(50);
    expect(await order(id)).toMatchObject({ status: 'CANCELLED', reasonCode: 'InsufficientFunds' });
    expect(await pointsOf(ctx, customerId)).toBe(0);
  });

  it('when the payment account does not exist, then it is CANCELLED with AccountNotFound, with its row but no reservation', async () => {
    const sku = await createProduct(ctx, 100, 3);
    const { id, result } = await checkout({ paymentAccountId: uid('missing-'), items: [{ sku, quantity: 1 }] });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'AccountNotFound' } });
    expect(result.steps.find((s) => s.name === 'read-account')?.state).toBe('failed');
    expect(result.steps.map((s) => s.name)).not.toContain('create-order');
    // Every accepted order ends with a row in its terminal state, refused before pricing or not (GET answers it after
    // Temporal's retention): unpriced, with the reason.
    expect(await order(id)).toMatchObject({ status: 'CANCELLED', reasonCode: 'AccountNotFound', total: null, currency: null, items: [{ sku, quantity: 1, price: null }] });
    expect(await product(ctx, sku)).toEqual({ stock: 3, reserved: 0 });
  });

  it('when the lines total more than one payment may move (past 10^12, summed exactly), then it is refused with TotalTooLarge and nothing is held', async () => {
    const payer = await createAccount(ctx, 1_000, 'USD', { shard: otherShard() });
    const sku = await createProduct(ctx, 600_000_000_000, 10);
    const { id, result } = await checkout({ paymentAccountId: payer, items: [{ sku, quantity: 2 }] });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'TotalTooLarge' } });
    expect(await order(id)).toMatchObject({ status: 'CANCELLED', reasonCode: 'TotalTooLarge', total: null });
    expect(await product(ctx, sku)).toEqual({ stock: 10, reserved: 0 });
    expect(await account(ctx, payer)).toEqual({ balance: 1_000, frozen: 0 });
  });

  it('when the lines are priced in another currency than the account holds, then the order is refused with CurrencyMismatch', async () => {
    const payer = await createAccount(ctx, 100_000, 'USD', { shard: otherShard() });
    const sku = await createProduct(ctx, 100, 3, 'EUR');
    const { id, result } = await checkout({ paymentAccountId: payer, items: [{ sku, quantity: 1 }] });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'CurrencyMismatch' } });
    expect(result.steps.find((s) => s.name === 'create-order')?.state).toBe('failed');
    expect(result.steps.map((s) => s.name)).not.toContain('stock-1:try');
    expect(await order(id)).toMatchObject({ status: 'CANCELLED', reasonCode: 'CurrencyMismatch', total: null });
    expect(await product(ctx, sku)).toEqual({ stock: 3, reserved: 0 });
    expect(await account(ctx, payer)).toEqual({ balance: 100_000, frozen: 0 });
  });

  it('when the total is over the threshold and it is approved, then it waits in AWAITING_APPROVAL and is then CONFIRMED', async () => {
    const payer = await createAccount(ctx, 5_000_000, 'USD', { shard: 1 });
    const merchantId = merchantOn(0);
    const merchant = `${merchantId}-USD`;
    const sku = await createProduct(ctx, 2_000_000, 2);
    const customerId = uid('cust-');
    const { id, result } = await withWorker(ctx, async (tq, { topology }) => {
      const handle = await start(tq, topology, { customerId, paymentAccountId: payer, items: [{ sku, quantity: 1 }], policy: { merchantAccountId: merchantId } });
      await waitForStatus(handle, 'AWAITING_APPROVAL');
      // While it waits: money held on the payer's shard, stock reserved, the order row says so.
      await until(async () => (await order(handle.orderId))?.status === 'AWAITING_APPROVAL');
      expect(await account(ctx, payer)).toEqual({ balance: 3_000_000, frozen: 2_000_000 });
      expect(await moneyIn(ctx, [payer])).toBe(5_000_000);
      expect(await payment(payer, handle.orderId)).toEqual({ state: 'FROZEN', amount: 2_000_000 });
      expect(await product(ctx, sku)).toEqual({ stock: 2, reserved: 1 });
      await handle.executeUpdate(approveOrderUpdate);
      return { id: handle.orderId, result: (await handle.result()) as OrderProgress };
    });
    expect(result.status).toBe('CONFIRMED');
    expect(await account(ctx, payer)).toEqual({ balance: 3_000_000, frozen: 0 });
    expect(await payment(payer, id)).toEqual({ state: 'CAPTURED', amount: 2_000_000 });
    expect(await account(ctx, merchant)).toEqual({ balance: 2_000_000, frozen: 0 });
    expect(await moneyIn(ctx, [payer, merchant])).toBe(5_000_000);
    expect(await product(ctx, sku)).toEqual({ stock: 1, reserved: 0 });
    expect((await order(id))?.status).toBe('CONFIRMED');
    expect(await eventualPoints(ctx, customerId, 20_000)).toBe(20_000);
  });

  it('when cancelled during approval, then it is CANCELLED with the reason and the hold and reservation are released', async () => {
    const payer = await createAccount(ctx, 5_000_000, 'USD', { shard: otherShard() });
    const sku = await createProduct(ctx, 2_000_000, 2);
    const customerId = uid('cust-');
    const { id, result } = await withWorker(ctx, async (tq, { topology }) => {
      const handle = await start(tq, topology, { customerId, paymentAccountId: payer, items: [{ sku, quantity: 1 }] });
      await waitForStatus(handle, 'AWAITING_APPROVAL');
      await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'customer changed their mind' }] });
      return { id: handle.orderId, result: (await handle.result()) as OrderProgress };
    });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'OrderCancelled', message: 'customer changed their mind' } });
    expect(await account(ctx, payer)).toEqual({ balance: 5_000_000, frozen: 0 });
    expect(await payment(payer, id)).toEqual({ state: 'RELEASED', amount: 2_000_000 });
    expect(await ledgerSum(ctx, payer)).toBe(5_000_000);
    expect(await product(ctx, sku)).toEqual({ stock: 2, reserved: 0 });
    expect(await order(id)).toMatchObject({ status: 'CANCELLED', reasonCode: 'OrderCancelled', reason: 'customer changed their mind' });
    expect(await pointsOf(ctx, customerId)).toBe(0);
  });

  it('when cancelled before approval (while the payment try runs), then everything tried is cancelled and the late try is refused', async () => {
    const payer = await createAccount(ctx, 10_000, 'USD', { shard: otherShard() });
    const sku = await createProduct(ctx, 1_000, 5);
    // The ledger worker delays every payment hold: the cancel arrives while the try is in flight on its worker.
    let holdSettled: Promise<unknown> | undefined;
    const slowHold: ActivityInterceptorsFactory = (actx) => ({
      inbound: {
        execute: (input, next) => {
          if (actx.info.activityType !== 'holdPayment') return next(input);
          const run = sleep(1_500).then(() => next(input));
          holdSettled = run.catch(() => undefined);
          return run;
        },
      },
    });
    const { id, result } = await withWorker(
      ctx,
      async (tq, { topology }) => {
        const handle = await start(tq, topology, { paymentAccountId: payer, items: [{ sku, quantity: 2 }] });
        await until(async () => (await handle.query(orderProgressQuery)).steps.some((s) => s.name === 'payment:try' && s.state === 'running'));
        await until(() => holdSettled !== undefined); // the hold has started on the ledger worker
        await handle.executeUpdate(cancelOrderUpdate, { args: [{}] });
        const r = (await handle.result()) as OrderProgress;
        await holdSettled; // the try that was in flight has finished on its worker
        return { id: handle.orderId, result: r };
      },
      { overrides: { interceptors: { activity: [slowHold] } } },
    );
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'OrderCancelled', message: 'cancelled by request' } });
    expect(result.steps.find((s) => s.name === 'payment:try')?.state).toBe('compensated');
    // The cancel ran first (a null compensation), so the hold that arrived after it froze nothing.
    expect(await account(ctx, payer)).toEqual({ balance: 10_000, frozen: 0 });
    expect(await payment(payer, id)).toBeUndefined();
    expect(await ledgerSum(ctx, payer)).toBe(10_000);
    expect(await product(ctx, sku)).toEqual({ stock: 5, reserved: 0 });
    expect(await order(id)).toMatchObject({ status: 'CANCELLED', reasonCode: 'OrderCancelled' });
  });

  it('when approval times out, then it is CANCELLED with ApprovalTimedOut', async () => {
    const payer = await createAccount(ctx, 5_000_000, 'USD', { shard: otherShard() });
    const sku = await createProduct(ctx, 2_000_000, 1);
    const { id, result } = await checkout({ paymentAccountId: payer, items: [{ sku, quantity: 1 }], policy: { approvalTimeoutMs: 1_500 } });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'ApprovalTimedOut' } });
    expect(await account(ctx, payer)).toEqual({ balance: 5_000_000, frozen: 0 });
    expect(await payment(payer, id)).toEqual({ state: 'RELEASED', amount: 2_000_000 });
    expect(await product(ctx, sku)).toEqual({ stock: 1, reserved: 0 });
    expect(await order(id)).toMatchObject({ status: 'CANCELLED', reasonCode: 'ApprovalTimedOut' });
  });

  it('when approve is sent to an order that is not awaiting approval, then the update is rejected', async () => {
    const payer = await createAccount(ctx, 5_000_000, 'USD', { shard: otherShard() });
    const merchantId = merchantOn(merchantShard());
    const sku = await createProduct(ctx, 2_000_000, 1);
    await withWorker(ctx, async (tq, { topology }) => {
      const handle = await start(tq, topology, { paymentAccountId: payer, items: [{ sku, quantity: 1 }], policy: { merchantAccountId: merchantId } });
      await waitForStatus(handle, 'AWAITING_APPROVAL');
      await handle.executeUpdate(approveOrderUpdate);
      await expect(handle.executeUpdate(approveOrderUpdate)).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(handle.executeUpdate(cancelOrderUpdate, { args: [{}] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((await handle.result()) as OrderProgress).status).toBe('CONFIRMED');
    });
    expect(await account(ctx, `${merchantId}-USD`)).toEqual({ balance: 2_000_000, frozen: 0 });
  });
});

async function waitForStatus(handle: { query: (q: typeof orderProgressQuery) => Promise<{ status: string }> }, status: string) {
  await until(async () => (await handle.query(orderProgressQuery)).status === status);
}
