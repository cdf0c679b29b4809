// tipMerchant (the README's "Add a flow" example) through the real workers: the payer's shard, the merchant's shard
// on the other server, and loyalty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merchantAccount, shardOf } from '../../src/activities/ledger/contract';
import { newTransferId } from '../../src/activities/ledger/reads';
import { tipWorkflowId } from '../../src/workflows/tip/contract';
import { account, createAccount, createFlowsEnv, fastTimeouts, ledgerDb, pointsOf, uid, withWorker, type FlowsEnv } from '../helpers/env';

describe('tipMerchant', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  // Each test tips a merchant of its own (opened on its first credit), so concurrent checkouts cannot move its balance.
  async function tip(fromAccountId: string, amount: number, merchantAccountId: string) {
    const id = newTransferId(ctx.stores, fromAccountId);
    const customerId = uid('cust-');
    const result = await withWorker(ctx, (taskQueue, { topology }) =>
      ctx.env.client.workflow.execute('tipMerchant', {
        taskQueue,
        workflowId: tipWorkflowId(id),
        args: [{ id, fromAccountId, customerId, amount, currency: 'USD', merchantAccountId, pointsPerMinorUnits: 100, timeouts: fastTimeouts, topology }],
      }),
    );
    return { id, customerId, result };
  }

  it('when the payer has the funds, then the merchant on the other shard is credited and the points are awarded once', async () => {
    const merchantAccountId = uid('tipm-');
    const merchant = merchantAccount(merchantAccountId, 'USD');
    const otherShard = 1 - shardOf(merchant, ctx.stores.of('ledger').length);
    const payer = await createAccount(ctx, 10_000, 'USD', { shard: otherShard });
    const { id, customerId, result } = await tip(payer, 2_500, merchantAccountId);
    expect(result).toMatchObject({ status: 'COMPLETED', points: 25 });
    expect(await account(ctx, payer)).toEqual({ balance: 7_500, frozen: 0 });
    expect(await account(ctx, merchant)).toEqual({ balance: 2_500, frozen: 0 });
    expect(await pointsOf(ctx, customerId)).toBe(25);
    const [rows] = await ledgerDb(ctx, payer).query('SELECT status FROM transfers WHERE id = ?', { replacements: [id] });
    expect(rows).toEqual([{ status: 'COMPLETED' }]);
  });

  it('when the payer lacks the funds, then it is COMPENSATED: nothing moved, no points', async () => {
    const payer = await createAccount(ctx, 100);
    const merchantAccountId = uid('tipm-');
    const { customerId, result } = await tip(payer, 2_500, merchantAccountId);
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'InsufficientFunds' } });
    expect(await account(ctx, payer)).toEqual({ balance: 100, frozen: 0 });
    expect(await account(ctx, merchantAccount(merchantAccountId, 'USD'))).toBeUndefined(); // never credited, never opened
    expect(await pointsOf(ctx, customerId)).toBe(0);
  });
});
