// The three guarantees of one transfer (saga, tcc, xa) through the real workers, Temporal server and both MariaDB
// servers: each mode's success across shards and on one shard, its rejections (insufficient funds, unknown account,
// currency mismatch), money conserved, each ledger matching its balance, and nothing held, pending or prepared left.
// Then readers polling both accounts while transfers run: xa never shows a state between before and after; tcc never
// shows spendable money that is not there.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTransferId } from '../../src/activities/ledger/reads';
import { transferWorkflowId, type Consistency, type TransferProgress } from '../../src/workflows/transfer/contract';
import {
  account,
  createAccount,
  createFlowsEnv,
  fastTimeouts,
  ledgerDb,
  ledgerSum,
  moneyIn,
  pendingOf,
  preparedXa,
  uid,
  withWorker,
  type FlowsEnv,
} from '../helpers/env';

const modes: Consistency[] = ['saga', 'tcc', 'xa'];
const done = { saga: 'credited', tcc: 'confirmed', xa: 'committed' };
const undone = { saga: 'refunded', tcc: 'cancelled', xa: 'rolled-back' };

describe('transfer modes', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  async function run(consistency: Consistency, fromAccountId: string, toAccountId: string, amount: number, currency = 'USD') {
    const id = newTransferId(ctx.stores, fromAccountId);
    const result: TransferProgress = await withWorker(ctx, (taskQueue, { topology }) =>
      ctx.env.client.workflow.execute('transferMoney', {
        taskQueue,
        workflowId: transferWorkflowId(id),
        args: [{ id, fromAccountId, toAccountId, amount, currency, consistency, timeouts: fastTimeouts, topology }],
      }),
    );
    return { id, result };
  }

  async function nothingLeft(id: string, accounts: string[]) {
    expect(await preparedXa(ctx, transferWorkflowId(id))).toEqual([]);
    for (const a of accounts) {
      expect((await account(ctx, a))?.frozen ?? 0).toBe(0);
      expect(await pendingOf(ctx, a)).toBe(0);
      if (await account(ctx, a)) expect(await ledgerSum(ctx, a)).toBe((await account(ctx, a))!.balance);
    }
  }

  describe.each(modes)('%s', (mode) => {
    it('when the accounts live on different shards, then the money moves once, with the mode and its last phase shown', async () => {
      const from = await createAccount(ctx, 10_000, 'USD', { shard: 0 });
      const to = await createAccount(ctx, 500, 'USD', { shard: 1 });
      const { id, result } = await run(mode, from, to, 4_000);
      expect(result).toMatchObject({ status: 'COMPLETED', consistency: mode, phase: done[mode] });
      expect(await account(ctx, from)).toEqual({ balance: 6_000, frozen: 0 });
      expect(await account(ctx, to)).toEqual({ balance: 4_500, frozen: 0 });
      const [rows] = await ledgerDb(ctx, from).query('SELECT status FROM transfers WHERE id = ?', { replacements: [id] });
      expect(rows).toEqual([{ status: 'COMPLETED' }]);
      await nothingLeft(id, [from, to]);
    });

    it('when both accounts share a shard, then it completes the same way', async () => {
      const from = await createAccount(ctx, 3_000, 'USD', { shard: 1 });
      const to = await createAccount(ctx, 0, 'USD', { shard: 1 });
      const { id, result } = await run(mode, from, to, 3_000);
      expect(result).toMatchObject({ status: 'COMPLETED', phase: done[mode] });
      expect(await account(ctx, to)).toEqual({ balance: 3_000, frozen: 0 });
      expect(await moneyIn(ctx, [from, to])).toBe(3_000);
      await nothingLeft(id, [from, to]);
    });

    it('when funds are insufficient, then it is COMPENSATED with InsufficientFunds and nothing moved', async () => {
      const from = await createAccount(ctx, 1_000, 'USD', { shard: 1 });
      const to = await createAccount(ctx, 0, 'USD', { shard: 0 });
      const { id, result } = await run(mode, from, to, 1_001);
      expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'InsufficientFunds' }, phase: undone[mode] });
      expect(await account(ctx, from)).toEqual({ balance: 1_000, frozen: 0 });
      expect(await account(ctx, to)).toEqual({ balance: 0, frozen: 0 });
      const [rows] = await ledgerDb(ctx, from).query('SELECT status, reason_code FROM transfers WHERE id = ?', { replacements: [id] });
      expect(rows).toEqual([{ status: 'COMPENSATED', reason_code: 'InsufficientFunds' }]);
      await nothingLeft(id, [from, to]);
    });

    it('when the destination does not exist, then it is COMPENSATED with AccountNotFound and the source is whole', async () => {
      const from = await createAccount(ctx, 2_000, 'USD', { shard: 0 });
      const missing = uid('missing-');
      const { id, result } = await run(mode, from, missing, 500);
      expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'AccountNotFound' } });
      expect(await account(ctx, from)).toEqual({ balance: 2_000, frozen: 0 });
      await nothingLeft(id, [from]);
    });

    it('when the destination holds another currency, then it is COMPENSATED with CurrencyMismatch and nothing moved', async () => {
      const from = await createAccount(ctx, 5_000, 'USD', { shard: 0 });
      const to = await createAccount(ctx, 0, 'EUR', { shard: 1 });
      const { id, result } = await run(mode, from, to, 2_000);
      expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: 'CurrencyMismatch' } });
      expect(await account(ctx, from)).toEqual({ balance: 5_000, frozen: 0 });
      expect(await account(ctx, to)).toEqual({ balance: 0, frozen: 0 });
      await nothingLeft(id, [from, to]);
    });
  });

  describe('readers polling both accounts while transfers run', () => {
    /** One reader's look at both accounts, each on its own server, taking shared locks on both before releasing
     * either (a locking read at READ COMMITTED): a prepared XA branch makes it wait, never read around it. */
    async function lockedLook(a: string, b: string) {
      const [dbA, dbB] = [ledgerDb(ctx, a), ledgerDb(ctx, b)];
      for (;;) {
        const [ta, tb] = [await dbA.transaction(), await dbB.transaction()];
        try {
          await dbA.query('SET SESSION innodb_lock_wait_timeout = 1', { transaction: ta });
          await dbB.query('SET SESSION innodb_lock_wait_timeout = 1', { transaction: tb });
          const q = 'SELECT balance, frozen, pending FROM accounts WHERE id = ? LOCK IN SHARE MODE';
          const [[ra]] = (await dbA.query(q, { replacements: [a], transaction: ta })) as [Array<Record<string, number>>, unknown];
          const [[rb]] = (await dbB.query(q, { replacements: [b], transaction: tb })) as [Array<Record<string, number>>, unknown];
          await ta.commit();
          await tb.commit();
          return [ra, rb].map((r) => ({ balance: Number(r.balance), frozen: Number(r.frozen), pending: Number(r.pending) }));
        } catch (err) {
          await ta.rollback().catch(() => undefined);
          await tb.rollback().catch(() => undefined);
          if (!/Lock wait timeout|Deadlock/i.test(String((err as Error).message))) throw err;
        }
      }
    }

    async function pollDuring(mode: Consistency, a: string, b: string) {
      const looks: Array<Array<{ balance: number; frozen: number; pending: number }>> = [];
      let stop = false;
      const reader = (async () => {
        while (!stop) {
          looks.push(await lockedLook(a, b));
          await sleep(5);
        }
      })();
      const results = await withWorker(ctx, (taskQueue, { topology }) =>
        Promise.all(
          Array.from({ length: 8 }, (_, i) => {
            const [from, to] = i % 2 ? [a, b] : [b, a];
            const id = newTransferId(ctx.stores, from);
            return ctx.env.client.workflow.execute('transferMoney', {
              taskQueue,
              workflowId: transferWorkflowId(id),
              args: [{ id, fromAccountId: from, toAccountId: to, amount: 100 + i, currency: 'USD', consistency: mode, timeouts: fastTimeouts, topology }],
            });
          }),
        ),
      ).finally(() => (stop = true));
      await reader;
      return { looks, results: results as TransferProgress[] };
    }

    it('when xa transfers run both ways, then every look sees the sum of before and after, never one branch without the other', async () => {
      const a = await createAccount(ctx, 50_000, 'USD', { shard: 0 });
      const b = await createAccount(ctx, 50_000, 'USD', { shard: 1 });
      const { looks, results } = await pollDuring('xa', a, b);
      expect(results.every((r) => r.status === 'COMPLETED')).toBe(true);
      expect(looks.length).toBeGreaterThan(5);
      const sums = new Set(looks.map(([x, y]) => x.balance + y.balance));
      expect([...sums]).toEqual([100_000]);
      expect(looks.every(([x, y]) => x.frozen + y.frozen + x.pending + y.pending === 0)).toBe(true);
      expect(await preparedXa(ctx)).toEqual(expect.not.arrayContaining([expect.stringContaining(a)]));
    });

    it('when tcc transfers run both ways, then no look shows spendable money that is not there, and none loses any', async () => {
      const a = await createAccount(ctx, 50_000, 'USD', { shard: 0 });
      const b = await createAccount(ctx, 50_000, 'USD', { shard: 1 });
      const { looks, results } = await pollDuring('tcc', a, b);
      expect(results.every((r) => r.status === 'COMPLETED')).toBe(true);
      for (const [x, y] of looks) {
        expect(x.balance + y.balance).toBeLessThanOrEqual(100_000); // held and pending money is never spendable
        expect(x.balance + y.balance + x.frozen + y.frozen + x.pending + y.pending).toBeGreaterThanOrEqual(100_000); // nor lost
      }
      expect(await moneyIn(ctx, [a, b])).toBe(100_000);
      expect([await pendingOf(ctx, a), await pendingOf(ctx, b)]).toEqual([0, 0]);
    });
  });
});
