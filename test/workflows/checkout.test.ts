// checkoutOrder through the real worker, server and MariaDB: every path, with money and stock conserved.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../helpers/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import type { OrderInput, OrderLine } from '../../src/shared/flows';
import { workflowIds } from '../../src/shared/names';
import { approveOrderUpdate, cancelOrderUpdate, checkoutOrder, orderProgressQuery } from '../../src/workflows/checkout';
import { account, createAccount, createFlowsEnv, createProduct, fastTimeouts, moneyIn, product, uid, withWorker, type FlowsEnv } from '../helpers/env';

const policy = { approvalThreshold: 1_000_000, approvalTimeoutMs: 60_000, pointsPerMinorUnits: 100, merchantAccountId: 'merchant' };

describe('checkoutOrder', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  function start(taskQueue: string, input: { customerId?: string; paymentAccountId: string; items: OrderLine[]; policy?: Partial<OrderInput['policy']> }) {
    const id = uid('o-');
    const args: OrderInput = {
      id,
      customerId: input.customerId ?? uid('cust-'),
      paymentAccountId: input.paymentAccountId,
      items: input.items,
      policy: { ...policy, ...input.policy },
      timeouts: fastTimeouts,
    };
    return ctx.env.client.workflow.start(checkoutOrder, { taskQueue, workflowId: workflowIds.order(id), args: [args] });
  }

  async function points(customerId: string) {
    const [[row]] = (await ctx.db.query('SELECT COALESCE(SUM(points), 0) AS p FROM points_entries WHERE customer_id = ?', {
      replacements: [customerId],
    })) as [Array<{ p: number }>, unknown];
    return Number(row.p);
  }

  async function merchantBalance() {
    return (await account(ctx.db, 'merchant-USD')).balance;
  }

  it('when stock and funds suffice, then it is CONFIRMED: stock committed, payment captured, points awarded', async () => {
    const payer = await createAccount(ctx.db, 100_000);
    const [a, b] = [await createProduct(ctx.db, 1_500, 10), await createProduct(ctx.db, 700, 5)];
    const customerId = uid('cust-');
    const merchantBefore = await merchantBalance();
    const result = await withWorker(ctx, async (tq) => (await start(tq, { customerId, paymentAccountId: payer, items: [{ sku: a, quantity: 2 }, { sku: b, quantity: 5 }] })).result());
    expect(result).toMatchObject({ status: 'CONFIRMED', total: 6_500, currency: 'USD' });
    expect(await product(ctx.db, a)).toEqual({ stock: 8, reserved: 0 });
    expect(await product(ctx.db, b)).toEqual({ stock: 0, reserved: 0 });
    expect(await account(ctx.db, payer)).toMatchObject({ balance: 93_500, frozen: 0 });
    expect((await merchantBalance()) - merchantBefore).toBe(6_500);
    expect(await points(customerId)).toBe(65);
  });

  it('when one line of several is out of stock, then it is CANCELLED and nothing stays reserved or frozen', async () => {
    const payer = await createAccount(ctx.db, 100_000);
    const [a, b, c] = [await createProduct(ctx.db, 100, 10), await createProduct(ctx.db, 100, 1), await createProduct(ctx.db, 100, 10)];
    const customerId = uid('cust-');
    const result = await withWorker(ctx, async (tq) =>
      (await start(tq, { customerId, paymentAccountId: payer, items: [{ sku: a, quantity: 3 }, { sku: b, quantity: 2 }, { sku: c, quantity: 1 }] })).result(),
    );
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'OutOfStock' } });
    for (const sku of [a, b, c]) expect((await product(ctx.db, sku)).reserved).toBe(0);
    expect(await account(ctx.db, payer)).toMatchObject({ balance: 100_000, frozen: 0 });
    expect(await points(customerId)).toBe(0);
  });

  it('when the payer lacks funds, then it is CANCELLED and the reserved stock is released', async () => {
    const payer = await createAccount(ctx.db, 50);
    const sku = await createProduct(ctx.db, 100, 3);
    const result = await withWorker(ctx, async (tq) => (await start(tq, { paymentAccountId: payer, items: [{ sku, quantity: 1 }] })).result());
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'InsufficientFunds' } });
    expect(await product(ctx.db, sku)).toEqual({ stock: 3, reserved: 0 });
    expect(await account(ctx.db, payer)).toMatchObject({ balance: 50, frozen: 0 });
  });

  it('when the total is over the threshold and it is approved, then it waits in AWAITING_APPROVAL and is then CONFIRMED', async () => {
    const payer = await createAccount(ctx.db, 5_000_000);
    const sku = await createProduct(ctx.db, 2_000_000, 2);
    const customerId = uid('cust-');
    const merchantBefore = await merchantBalance();
    const result = await withWorker(ctx, async (tq) => {
      const handle = await start(tq, { customerId, paymentAccountId: payer, items: [{ sku, quantity: 1 }] });
      await waitForStatus(handle, 'AWAITING_APPROVAL');
      expect(await account(ctx.db, payer)).toMatchObject({ balance: 3_000_000, frozen: 2_000_000 });
      expect(await moneyIn(ctx.db, [payer])).toBe(5_000_000);
      await handle.executeUpdate(approveOrderUpdate);
      return handle.result();
    });
    expect(result.status).toBe('CONFIRMED');
    expect(await account(ctx.db, payer)).toMatchObject({ balance: 3_000_000, frozen: 0 });
    expect((await merchantBalance()) - merchantBefore).toBe(2_000_000);
    expect(await points(customerId)).toBe(20_000);
  });

  it('when cancelled during approval, then it is CANCELLED with the reason and the freeze is released', async () => {
    const payer = await createAccount(ctx.db, 5_000_000);
    const sku = await createProduct(ctx.db, 2_000_000, 2);
    const result = await withWorker(ctx, async (tq) => {
      const handle = await start(tq, { paymentAccountId: payer, items: [{ sku, quantity: 1 }] });
      await waitForStatus(handle, 'AWAITING_APPROVAL');
      await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'customer changed their mind' }] });
      return handle.result();
    });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'OrderCancelled', message: 'customer changed their mind' } });
    expect(await account(ctx.db, payer)).toMatchObject({ balance: 5_000_000, frozen: 0 });
    expect(await product(ctx.db, sku)).toEqual({ stock: 2, reserved: 0 });
  });

  it('when cancelled before approval (while the payment try runs), then everything tried is cancelled', async () => {
    const payer = await createAccount(ctx.db, 10_000);
    const sku = await createProduct(ctx.db, 1_000, 5);
    const real = createActivities({ db: ctx.db });
    const slowPayment = {
      ...real,
      tryPayment: async (p: Parameters<typeof real.tryPayment>[0]) => {
        await sleep(1_500);
        return real.tryPayment(p);
      },
    };
    const result = await withWorker(
      ctx,
      async (tq) => {
        const handle = await start(tq, { paymentAccountId: payer, items: [{ sku, quantity: 2 }] });
        await until(async () => (await handle.query(orderProgressQuery)).steps.some((s) => s.name === 'payment:try' && s.state === 'running'));
        await handle.executeUpdate(cancelOrderUpdate, { args: [{}] });
        return handle.result();
      },
      { activities: slowPayment },
    );
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'OrderCancelled' } });
    await until(async () => (await account(ctx.db, payer)).frozen === 0 && (await account(ctx.db, payer)).balance === 10_000);
    expect(await product(ctx.db, sku)).toEqual({ stock: 5, reserved: 0 });
  });

  it('when approval times out, then it is CANCELLED with ApprovalTimedOut', async () => {
    const payer = await createAccount(ctx.db, 5_000_000);
    const sku = await createProduct(ctx.db, 2_000_000, 1);
    const result = await withWorker(ctx, async (tq) =>
      (await start(tq, { paymentAccountId: payer, items: [{ sku, quantity: 1 }], policy: { approvalTimeoutMs: 1_500 } })).result(),
    );
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'ApprovalTimedOut' } });
    expect(await account(ctx.db, payer)).toMatchObject({ balance: 5_000_000, frozen: 0 });
    expect(await product(ctx.db, sku)).toEqual({ stock: 1, reserved: 0 });
  });

  it('when approve is sent to an order that is not awaiting approval, then the update is rejected', async () => {
    const payer = await createAccount(ctx.db, 5_000_000);
    const sku = await createProduct(ctx.db, 2_000_000, 1);
    await withWorker(ctx, async (tq) => {
      const handle = await start(tq, { paymentAccountId: payer, items: [{ sku, quantity: 1 }] });
      await waitForStatus(handle, 'AWAITING_APPROVAL');
      await handle.executeUpdate(approveOrderUpdate);
      await expect(handle.executeUpdate(approveOrderUpdate)).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(handle.executeUpdate(cancelOrderUpdate, { args: [{}] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      expect((await handle.result()).status).toBe('CONFIRMED');
    });
  });
});


async function waitForStatus(handle: { query: (q: typeof orderProgressQuery) => Promise<{ status: string }> }, status: string) {
  await until(async () => (await handle.query(orderProgressQuery)).status === status);
}
