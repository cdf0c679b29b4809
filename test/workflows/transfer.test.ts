// transferMoney through the real workers, server and MariaDB servers: every path, across ledger shards (two database
// servers) on purpose, with money conserved in each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferWorkflowId, type TransferInput } from '../../src/workflows/transfer/contract';
import { newTransferId } from '../../src/activities/ledger/reads';
import { account, createAccount, createFlowsEnv, entriesOf, fastTimeouts, ledgerDb, ledgerSum, moneyIn, uid, withWorker, type FlowsEnv } from '../helpers/env';

describe('transferMoney', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  async function run(input: Omit<TransferInput, 'id' | 'timeouts' | 'topology'>) {
    const id = newTransferId(ctx.stores, input.fromAccountId);
    const result = await withWorker(ctx, (taskQueue, { topology }) =>
      ctx.env.client.workflow.execute('transferMoney', {
        taskQueue,
        workflowId: transferWorkflowId(id),
        args: [{ id, ...input, timeouts: fastTimeouts, topology }],
      }),
    );
    return { id, result };
  }

  it('when the accounts live on different shards and servers, then money moves once and each ledger matches its balance', async () => {
    const from = await createAccount(ctx, 10_000, 'USD', { shard: 0 });
    const to = await createAccount(ctx, 500, 'USD', { shard: 1 });
    expect(ledgerDb(ctx, from)).not.toBe(ledgerDb(ctx, to));
    const { id, result } = await run({ fromAccountId: from, toAccountId: to, amount: 4_000, currency: 'USD' });
    expect(result.status).toBe('COMPLETED');
    expect(result.steps.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([
      ['debit', 'done'],
      ['credit', 'done'],
      ['record-outcome', 'done'],
    ]);
    expect(await account(ctx, from)).toMatchObject({ balance: 6_000 });
    expect(await account(ctx, to)).toMatchObject({ balance: 4_500 });
    expect(await moneyIn(ctx, [from, to])).toBe(10_500);
    expect(await ledgerSum(ctx, from)).toBe(6_000);
    expect(await ledgerSum(ctx, to)).toBe(4_500); // the opening entry (500) plus the credit
    // The transfer row lives on the source's shard only, in its terminal state.
    const [rows] = await ledgerDb(ctx, from).query('SELECT status FROM transfers WHERE id = ?', { replacements: [id] });
    expect(rows).toEqual([{ status: 'COMPLETED' }]);
    const [elsewhere] = await ledgerDb(ctx, to).query('SELECT id FROM transfers WHERE id = ?', { replacements: [id] });
    expect(elsewhere).toEqual([]);
  });

  it('when both accounts share a shard, then the transfer completes the same way', async () => {
    const from = await createAccount(ctx, 3_000, 'USD', { shard: 1 });
    const to = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const { result } = await run({ fromAccountId: from, toAccountId: to, amount: 3_000, currency: 'USD' });
    expect(result.status).toBe('COMPLETED');
    expect(await moneyIn(ctx, [from, to])).toBe(3_000);
    expect(await account(ctx, to)).toMatchObject({ balance: 3_000 });
  });

  it('when funds are insufficient, then it is COMPENSATED with InsufficientFunds and nothing moved', async () => {
    const from = await createAccount(ctx, 1_000, 'USD', { shard: 1 });
    const to = await createAccount(ctx, 0, 'USD', { shard: 0 });
    const { id, result } = await run({ fromAccountId: from, toAccountId: to, amount: 1_001, currency: 'USD' });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'InsufficientFunds' } });
    expect(await account(ctx, from)).toMatchObject({ balance: 1_000, frozen: 0 });
    expect(await moneyIn(ctx, [from, to])).toBe(1_000);
    const [rows] = await ledgerDb(ctx, from).query('SELECT status, reason_code FROM transfers WHERE id = ?', { replacements: [id] });
    expect(rows).toEqual([{ status: 'COMPENSATED', reason_code: 'InsufficientFunds' }]);
  });

  it('when the source account does not exist, then it is COMPENSATED with AccountNotFound', async () => {
    const to = await createAccount(ctx, 0);
    const { result } = await run({ fromAccountId: uid('missing-'), toAccountId: to, amount: 10, currency: 'USD' });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'AccountNotFound' } });
  });

  it('when the destination on the other server rejects the credit after the debit, then the debit is refunded once', async () => {
    const from = await createAccount(ctx, 5_000, 'USD', { shard: 0 });
    const to = await createAccount(ctx, 0, 'EUR', { shard: 1 });
    const { id, result } = await run({ fromAccountId: from, toAccountId: to, amount: 2_000, currency: 'USD' });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'CurrencyMismatch' } });
    expect(result.steps.find((s: { name: string }) => s.name === 'debit')?.state).toBe('compensated');
    expect(await account(ctx, from)).toMatchObject({ balance: 5_000 });
    expect(await account(ctx, to)).toMatchObject({ balance: 0 });
    expect(await entriesOf(ctx, from, transferWorkflowId(id))).toEqual([
      { step: 'debit', amount: -2_000 },
      { step: 'refund-debit', amount: 2_000 },
    ]);
    expect(await ledgerSum(ctx, from)).toBe(5_000);
  });
});

describe('transferMoney at the limits of exact money', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  it('when a credit would take the destination past 2^53 − 1 minor units, then it is refused (BalanceLimit) and the debit refunded; at the limit exactly, it lands', async () => {
    const from = await createAccount(ctx, 5_000, 'USD', { shard: 0 });
    const near = Number.MAX_SAFE_INTEGER - 1_000;
    const to = await createAccount(ctx, near, 'USD', { shard: 1 });
    const run = async (amount: number) => {
      const id = newTransferId(ctx.stores, from);
      return withWorker(ctx, (taskQueue, { topology }) =>
        ctx.env.client.workflow.execute('transferMoney', {
          taskQueue,
          workflowId: transferWorkflowId(id),
          args: [{ id, fromAccountId: from, toAccountId: to, amount, currency: 'USD', timeouts: fastTimeouts, topology }],
        }),
      );
    };
    expect(await run(1_001)).toMatchObject({ status: 'COMPENSATED', reason: { code: 'BalanceLimit' } });
    expect(await account(ctx, to)).toEqual({ balance: near, frozen: 0 });
    expect(await run(1_000)).toMatchObject({ status: 'COMPLETED' });
    expect(await account(ctx, to)).toEqual({ balance: Number.MAX_SAFE_INTEGER, frozen: 0 }); // read back exactly
    expect(await account(ctx, from)).toEqual({ balance: 4_000, frozen: 0 });
  });
});
