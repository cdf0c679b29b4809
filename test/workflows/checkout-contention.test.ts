// Checkout under contention, through the real workers and both servers: many concurrent sales in one currency to one
// merchant. Each sale lands on one of the merchant's sub-accounts (chosen by the order id, each on its own shard), so
// sales do not queue on one hot row; no barrier transaction meets a deadlock (the merchant credit takes no shared lock
// it must upgrade); the merchant's takings are exactly the sum of the orders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merchantAccount, merchantAccounts } from '../../src/activities/ledger/contract';
import { orderWorkflowId, type OrderInput } from '../../src/workflows/checkout/contract';
import { lockConflicts } from '../../src/platform/barrier';
import { account, createAccount, createFlowsEnv, createProduct, fastTimeouts, product, uid, withWorker, type FlowsEnv } from '../helpers/env';

const ORDERS = 40;
const IN_FLIGHT = 20;
const SUB_ACCOUNTS = 8;

describe('checkout under contention', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  it(`when ${ORDERS} checkouts in one currency run ${IN_FLIGHT} at a time, then all confirm, the sales spread over sub-accounts, and no deadlock is met`, async () => {
    const merchantId = uid('shop-');
    const sku = await createProduct(ctx, 1_250, 10_000);
    const payers = await Promise.all(Array.from({ length: ORDERS }, () => createAccount(ctx, 100_000)));
    const conflictsBefore = lockConflicts.retried;
    const results = await withWorker(ctx, async (taskQueue, { topology }) => {
      const out: Array<{ id: string; status: string; total?: number }> = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let i = next++; i < ORDERS; i = next++) {
            const id = uid('o-');
            const input: OrderInput = {
              id,
              customerId: uid('cust-'),
              paymentAccountId: payers[i],
              items: [{ sku, quantity: 2 }],
              policy: { approvalThreshold: 1_000_000, approvalTimeoutMs: 60_000, pointsPerMinorUnits: 100, merchantAccountId: merchantId, merchantSubAccounts: SUB_ACCOUNTS },
              timeouts: fastTimeouts,
              topology,
            };
            const r = (await ctx.env.client.workflow.execute('checkoutOrder', { taskQueue, workflowId: orderWorkflowId(id), args: [input] })) as { status: string; total?: number };
            out.push({ id, status: r.status, total: r.total });
          }
        }),
      );
      return out;
    });
    expect(results.map((r) => r.status)).toEqual(Array(ORDERS).fill('CONFIRMED'));
    expect(lockConflicts.retried - conflictsBefore).toBe(0);

    const used = new Set(results.map((r) => merchantAccount(merchantId, 'USD', r.id, SUB_ACCOUNTS)));
    expect(used.size).toBeGreaterThan(1);
    let takings = 0;
    for (const a of merchantAccounts(merchantId, 'USD', SUB_ACCOUNTS)) takings += (await account(ctx, a))?.balance ?? 0;
    expect(takings).toBe(ORDERS * 2_500);
    expect(await account(ctx, merchantAccount(merchantId, 'USD'))).toBeUndefined(); // the single hot row is never used
    expect(await product(ctx, sku)).toEqual({ stock: 10_000 - 2 * ORDERS, reserved: 0 });
    for (const p of payers) expect(await account(ctx, p)).toEqual({ balance: 97_500, frozen: 0 });
  }, 180_000);
});
