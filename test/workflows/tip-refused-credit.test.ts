// tipMerchant when the merchant's account refuses the credit (a business rejection: the credit would take it past the
// most a balance may hold), through the real workers: the credit did not happen, so the payer's debit is refunded.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merchantAccount } from '../../src/activities/ledger/contract';
import { MAX_BALANCE } from '../../src/activities/ledger/money';
import { newTransferId } from '../../src/activities/ledger/reads';
import { tipWorkflowId, type TipProgress } from '../../src/workflows/tip/contract';
import { account, createAccount, createFlowsEnv, fastTimeouts, ledgerDb, uid, withWorker, type FlowsEnv } from '../helpers/env';

describe('tipMerchant, credit refused', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  it("when the merchant's account refuses the credit, then the tip is COMPENSATED with the refusal and the payer is refunded", async () => {
    const merchantAccountId = uid('tipfull-');
    const merchant = merchantAccount(merchantAccountId, 'USD');
    await ledgerDb(ctx, merchant).query(
      `INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES (?, 'merchant', 'USD', ?, 0, NOW(3), NOW(3))`,
      { replacements: [merchant, MAX_BALANCE - 100] },
    );
    const payer = await createAccount(ctx, 10_000);
    const id = newTransferId(ctx.stores, payer);
    const outcome = await withWorker(ctx, async (taskQueue, { topology }) => {
      const handle = await ctx.env.client.workflow.start('tipMerchant', {
        taskQueue,
        workflowId: tipWorkflowId(id),
        args: [{ id, fromAccountId: payer, customerId: uid('cust-'), amount: 2_500, currency: 'USD', merchantAccountId, pointsPerMinorUnits: 100, timeouts: fastTimeouts, topology }],
      });
      // A tip that retries its refused credit for ever never ends: give it 30 s, then stop it.
      const result = await Promise.race([handle.result() as Promise<TipProgress>, sleep(30_000).then(() => 'still running' as const)]);
      if (result === 'still running') await handle.terminate('the test gave up waiting');
      return result;
    });
    expect(outcome).toMatchObject({ status: 'COMPENSATED', reason: { code: 'BalanceLimit' } });
    expect(await account(ctx, payer)).toEqual({ balance: 10_000, frozen: 0 });
    expect(await account(ctx, merchant)).toEqual({ balance: MAX_BALANCE - 100, frozen: 0 });
    const [rows] = await ledgerDb(ctx, payer).query('SELECT status, reason_code FROM transfers WHERE id = ?', { replacements: [id] });
    expect(rows).toEqual([{ status: 'COMPENSATED', reason_code: 'BalanceLimit' }]);
  });
});
