// XA branches (src/platform/xa.ts) and the recovery job (src/platform/xa-recovery.ts) against a real ledger shard on a
// real MariaDB server, with the anomalies two-phase commit must survive: a commit arriving twice, a rollback of a
// branch that never prepared, a phase-1 retry arriving after the rollback, a prepare whose result was lost, and a
// prepared branch whose flow Temporal does not know (presumed abort).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reject } from '../../src/platform/activity';
import { temporalDecider, recoverPrepared, xaTarget, type Decider, type XaTarget } from '../../src/platform/xa-recovery';
import { commitBranch, connect, HangingBranchError, prepareBranch, recoverXids, rollbackBranch, xidSql, type Xid } from '../../src/platform/xa';
import { account, createAccount, createFlowsEnv, ledgerDb, uid, type FlowsEnv } from '../helpers/env';

describe('XA branches', () => {
  let ctx: FlowsEnv;
  let url: string;
  let target: XaTarget;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
    url = ctx.stores.of('ledger')[0].url;
    target = xaTarget({ namespace: ctx.config.temporal.namespace, taskQueuePrefix: uid('xatest-') }, url);
  });
  afterAll(() => ctx?.close());

  const xid = (): Xid => ({ gtrid: uid('transfer-xatest-'), bqual: 'xa-from', formatId: target.formatId });
  const credit = (accountId: string, amount: number) => async (conn: Awaited<ReturnType<typeof connect>>) => {
    await conn.query('UPDATE accounts SET balance = balance + ? WHERE id = ?', [amount, accountId]);
  };
  async function prepared(x: Xid) {
    const conn = await connect(url);
    try {
      return (await recoverXids(conn, [x.formatId ?? 1])).some((p) => p.gtrid === x.gtrid && p.bqual === x.bqual);
    } finally {
      conn.destroy();
    }
  }

  it('when a branch is prepared, then it survives its connection closing, holds its row and shows nothing until committed; a second commit changes nothing', async () => {
    const acc = await createAccount(ctx, 100, 'USD', { shard: 0 });
    const x = xid();
    expect(await prepareBranch(url, x, credit(acc, 50))).toBe('prepared');
    expect(await prepared(x)).toBe(true);
    expect(await account(ctx, acc)).toEqual({ balance: 100, frozen: 0 }); // readers see before
    const db = ledgerDb(ctx, acc);
    const locked = db.transaction(async (t) => {
      await db.query('SET SESSION innodb_lock_wait_timeout = 1', { transaction: t });
      await db.query('SELECT balance FROM accounts WHERE id = ? FOR UPDATE', { replacements: [acc], transaction: t });
    });
    await expect(locked).rejects.toThrow(/Lock wait timeout/);
    expect(await commitBranch(url, x)).toBe('committed');
    expect(await commitBranch(url, x)).toBe('already-committed');
    expect(await account(ctx, acc)).toEqual({ balance: 150, frozen: 0 });
    expect(await prepared(x)).toBe(false);
  });

  it('when the worker dies inside phase 1 (after XA START and the write, before PREPARE), then the server rolls the branch back and the retry prepares it', async () => {
    const acc = await createAccount(ctx, 0, 'USD', { shard: 0 });
    const x = xid();
    const dying = await connect(url);
    await dying.query(`XA START ${xidSql(x)}`);
    await dying.query("INSERT INTO barriers (flow_id, branch_id, op, reason, created_at) VALUES (?, ?, 'try', 'try', NOW(3))", [x.gtrid, x.bqual]);
    await credit(acc, 10)(dying);
    dying.destroy(); // the process is gone: its connection closes with the branch neither ended nor prepared
    await new Promise((r) => setTimeout(r, 200));
    expect(await prepared(x)).toBe(false);
    expect(await account(ctx, acc)).toEqual({ balance: 0, frozen: 0 });
    expect(await prepareBranch(url, x, credit(acc, 10))).toBe('prepared');
    await commitBranch(url, x);
    expect(await account(ctx, acc)).toEqual({ balance: 10, frozen: 0 });
  });

  it('when phase 1 runs again after its branch prepared (its result lost), then it finds the branch and prepares nothing more', async () => {
    const acc = await createAccount(ctx, 0, 'USD', { shard: 0 });
    const x = xid();
    expect(await prepareBranch(url, x, credit(acc, 10))).toBe('prepared');
    expect(await prepareBranch(url, x, credit(acc, 10))).toBe('already-prepared');
    await commitBranch(url, x);
    expect(await prepareBranch(url, x, credit(acc, 10))).toBe('already-committed');
    expect(await account(ctx, acc)).toEqual({ balance: 10, frozen: 0 });
  });

  it('when a branch that never prepared is rolled back, then a late phase-1 attempt is refused and writes nothing', async () => {
    const acc = await createAccount(ctx, 0, 'USD', { shard: 0 });
    const x = xid();
    expect(await rollbackBranch(url, x)).toBe('null-rollback');
    expect(await rollbackBranch(url, x)).toBe('already-rolled-back');
    await expect(prepareBranch(url, x, credit(acc, 10))).rejects.toBeInstanceOf(HangingBranchError);
    expect(await prepared(x)).toBe(false);
    expect(await account(ctx, acc)).toEqual({ balance: 0, frozen: 0 });
  });

  it('when a prepared branch is rolled back, then its write is gone, a second rollback changes nothing and a late retry is refused', async () => {
    const acc = await createAccount(ctx, 5, 'USD', { shard: 0 });
    const x = xid();
    await prepareBranch(url, x, credit(acc, 10));
    expect(await rollbackBranch(url, x)).toBe('rolled-back');
    expect(await rollbackBranch(url, x)).toBe('already-rolled-back');
    await expect(prepareBranch(url, x, credit(acc, 10))).rejects.toBeInstanceOf(HangingBranchError);
    await expect(commitBranch(url, x)).rejects.toThrow(/neither prepared nor committed/);
    expect(await account(ctx, acc)).toEqual({ balance: 5, frozen: 0 });
  });

  it('when the business write rejects inside phase 1, then nothing is prepared and no barrier row stays', async () => {
    const x = xid();
    const work = async () => reject('InsufficientFunds', 'no');
    await expect(prepareBranch(url, x, work)).rejects.toThrow(/no/);
    expect(await prepared(x)).toBe(false);
    const [rows] = await ctx.stores.of('ledger')[0].db.query('SELECT op FROM barriers WHERE flow_id = ?', { replacements: [x.gtrid] });
    expect(rows).toEqual([]);
  });

  it('when an xid part is longer than 64 bytes or has quotes, then it is refused before reaching the server', () => {
    expect(() => xidSql({ gtrid: 'x'.repeat(65), bqual: 'b' })).toThrow(/64 bytes/);
    expect(() => xidSql({ gtrid: "a'b", bqual: 'b' })).toThrow(/unexpected/);
  });

  it('when a prepared branch belongs to a flow Temporal does not know, then recovery rolls it back once it is old enough (presumed abort)', async () => {
    const acc = await createAccount(ctx, 0, 'USD', { shard: 0 });
    const x = xid();
    await prepareBranch(url, x, credit(acc, 77));
    const seen = new Map<string, number>();
    const decide = temporalDecider(ctx.env.client);
    const only: Decider = async (y, o) => (y.gtrid === x.gtrid ? decide(y, o) : 'wait');
    const first = await recoverPrepared(target, only, seen, 60_000);
    expect(first.rolledBack).toBe(0); // too young: the flow may still be deciding
    expect(await prepared(x)).toBe(true);
    const later = await recoverPrepared(target, only, seen, 60_000, Date.now() + 61_000);
    expect(later.rolledBack).toBe(1);
    expect(await prepared(x)).toBe(false);
    expect(await account(ctx, acc)).toEqual({ balance: 0, frozen: 0 });
  });
});
