// transferMoney through the real worker, server and MariaDB: every path, with money conserved in each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferInput } from '../../src/shared/flows';
import { workflowIds } from '../../src/shared/names';
import { transferMoney } from '../../src/workflows';
import { account, createAccount, createFlowsEnv, fastTimeouts, ledgerSum, moneyIn, uid, withWorker, type FlowsEnv } from '../helpers/env';

describe('transferMoney', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  async function run(input: Omit<TransferInput, 'id' | 'timeouts'>) {
    const id = uid('t-');
    const result = await withWorker(ctx, (taskQueue) =>
      ctx.env.client.workflow.execute(transferMoney, {
        taskQueue,
        workflowId: workflowIds.transfer(id),
        args: [{ id, ...input, timeouts: fastTimeouts }],
      }),
    );
    return { id, result };
  }

  it('when the source has the funds, then money moves once and the ledger matches the balances', async () => {
    const from = await createAccount(ctx.db, 10_000);
    const to = await createAccount(ctx.db, 500);
    const { result } = await run({ fromAccountId: from, toAccountId: to, amount: 4_000, currency: 'USD' });
    expect(result.status).toBe('COMPLETED');
    expect(result.steps.map((s) => [s.name, s.state])).toEqual([['debit', 'done'], ['credit', 'done']]);
    expect(await account(ctx.db, from)).toMatchObject({ balance: 6_000 });
    expect(await account(ctx.db, to)).toMatchObject({ balance: 4_500 });
    expect(await moneyIn(ctx.db, [from, to])).toBe(10_500);
    expect(await ledgerSum(ctx.db, from)).toBe(6_000);
    expect(await ledgerSum(ctx.db, to)).toBe(4_500); // the opening entry (500) plus the credit
  });

  it('when funds are insufficient, then it is COMPENSATED with InsufficientFunds and nothing moved', async () => {
    const from = await createAccount(ctx.db, 1_000);
    const to = await createAccount(ctx.db, 0);
    const { id, result } = await run({ fromAccountId: from, toAccountId: to, amount: 1_001, currency: 'USD' });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'InsufficientFunds' } });
    expect(await account(ctx.db, from)).toMatchObject({ balance: 1_000, frozen: 0 });
    expect(await moneyIn(ctx.db, [from, to])).toBe(1_000);
    const [rows] = await ctx.db.query('SELECT status, reason_code FROM transfers WHERE id = ?', { replacements: [id] });
    expect(rows).toEqual([{ status: 'COMPENSATED', reason_code: 'InsufficientFunds' }]);
  });

  it('when the source account does not exist, then it is COMPENSATED with AccountNotFound', async () => {
    const to = await createAccount(ctx.db, 0);
    const { result } = await run({ fromAccountId: uid('missing-'), toAccountId: to, amount: 10, currency: 'USD' });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'AccountNotFound' } });
  });

  it('when the destination rejects the credit after the debit, then the debit is refunded once', async () => {
    const from = await createAccount(ctx.db, 5_000);
    const to = await createAccount(ctx.db, 0, 'EUR');
    const { id, result } = await run({ fromAccountId: from, toAccountId: to, amount: 2_000, currency: 'USD' });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'CurrencyMismatch' } });
    expect(result.steps.find((s) => s.name === 'debit')?.state).toBe('compensated');
    expect(await account(ctx.db, from)).toMatchObject({ balance: 5_000 });
    expect(await account(ctx.db, to)).toMatchObject({ balance: 0 });
    const [entries] = await ctx.db.query('SELECT step, amount FROM ledger_entries WHERE flow_id = ? ORDER BY id', {
      replacements: [workflowIds.transfer(id)],
    });
    expect(entries).toEqual([
      { step: 'debit', amount: -2_000 },
      { step: 'refund-debit', amount: 2_000 },
    ]);
    expect(await ledgerSum(ctx.db, from)).toBe(5_000);
  });
});
