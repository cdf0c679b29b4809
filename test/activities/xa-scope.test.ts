// Whose XA branches are whose (src/platform/xa.ts, src/platform/xa-recovery.ts), on a MariaDB server of this file's
// own (both ledger shards as two databases on it, so its server-wide counters count only this file's statements):
// - the prepare path issues no server-wide XA RECOVER (MySQL 8 wants XA_RECOVER_ADMIN for it);
// - a recovery round resolves only this deployment's branches of its own database: another deployment's, a branch of
//   the pre-scope format that Temporal does not know, and the other database's branches are left alone, and the
//   refusal barrier row lands in the branch's own database;
// - a branch prepared under the pre-scope xid (formatID 1) is still found by phase 1 retries and finished by phase 2;
// - a branch's connection runs at READ COMMITTED.
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { select } from '../../src/platform/db/sql';
import { recoverPrepared, temporalDecider, xaTarget, type XaTarget } from '../../src/platform/xa-recovery';
import { commitBranch, connect, HangingBranchError, prepareBranch, recoverXids, rollbackBranch, xidSql, type Xid } from '../../src/platform/xa';
import { account, createAccount, uid, type FlowsEnv } from '../helpers/env';
import { ownLedgerServer, type OwnLedgerServer } from '../helpers/own-mariadb';

describe('XA branches scoped to a deployment and a database', () => {
  let own: OwnLedgerServer;
  let ctx: FlowsEnv;
  let shards: { url: string; target: XaTarget }[];
  const deployment = () => ({ namespace: ctx.config.temporal.namespace, taskQueuePrefix: 'sagaflow-xs' });

  beforeAll(async () => {
    own = await ownLedgerServer('xs');
    ctx = own.ctx;
    shards = ctx.stores.of('ledger').map((s) => ({ url: s.url, target: xaTarget(deployment(), s.url) }));
  });
  afterAll(() => own?.close());

  const xidOn = (shard: number, bqual = 'xa-from'): Xid => ({ gtrid: uid('transfer-xs-'), bqual, formatId: shards[shard].target.formatId });
  const credit = (accountId: string, amount: number) => async (conn: Connection) => {
    await conn.query('UPDATE accounts SET balance = balance + ? WHERE id = ?', [amount, accountId]);
  };
  async function withConn<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    const conn = await connect(shards[0].url);
    try {
      return await fn(conn);
    } finally {
      conn.destroy();
    }
  }
  const xaRecoverCount = () =>
    withConn(async (c) => Number(((await c.query("SHOW GLOBAL STATUS LIKE 'Com_xa_recover'"))[0] as { Value: string }[])[0].Value));
  const isPrepared = (x: Xid) => withConn(async (c) => (await recoverXids(c, [x.formatId ?? 1])).some((p) => p.gtrid === x.gtrid && p.bqual === x.bqual));
  const barrierOps = async (shard: number, x: Xid) =>
    (await select<{ op: string }>(ctx.stores.of('ledger')[shard].db, 'SELECT op FROM barriers WHERE flow_id = ? ORDER BY op', [x.gtrid])).map((r) => r.op);

  it('when branches are prepared, committed, rolled back and retried, then the server runs no XA RECOVER', async () => {
    const acc = await createAccount(ctx, 0, 'USD', { shard: 0 });
    const before = await xaRecoverCount();
    const a = xidOn(0);
    expect(await prepareBranch(shards[0].url, a, credit(acc, 5))).toBe('prepared');
    expect(await commitBranch(shards[0].url, a)).toBe('committed');
    expect(await prepareBranch(shards[0].url, a, credit(acc, 5))).toBe('already-committed');
    const b = xidOn(0);
    expect(await prepareBranch(shards[0].url, b, credit(acc, 7))).toBe('prepared');
    expect(await rollbackBranch(shards[0].url, b)).toBe('rolled-back');
    expect(await rollbackBranch(shards[0].url, xidOn(0))).toBe('null-rollback');
    expect(await xaRecoverCount()).toBe(before);
    expect(await account(ctx, acc)).toEqual({ balance: 5, frozen: 0 });
  });

  it("when another deployment's branch and an unknown pre-scope branch are prepared on the same server, then this deployment's recovery leaves both alone and rolls back only its own unknown branch", async () => {
    const [a1, a2, a3] = await Promise.all([1, 2, 3].map(() => createAccount(ctx, 0, 'USD', { shard: 0 })));
    const other = xaTarget({ namespace: 'another-namespace', taskQueuePrefix: 'sagaflow-xs' }, shards[0].url);
    const theirs: Xid = { gtrid: uid('transfer-theirs-'), bqual: 'xa-from', formatId: other.formatId };
    const preScope: Xid = { gtrid: uid('transfer-old-'), bqual: 'xa-from' }; // formatID 1, Temporal knows no such flow
    const mine = xidOn(0);
    await prepareBranch(shards[0].url, theirs, credit(a1, 1));
    await prepareBranch(shards[0].url, preScope, credit(a2, 2));
    await prepareBranch(shards[0].url, mine, credit(a3, 4));
    const decide = temporalDecider(ctx.env.client);
    const round = await recoverPrepared(shards[0].target, decide, new Map(), 0);
    expect(round.rolledBack).toBe(1);
    expect([await isPrepared(theirs), await isPrepared(preScope), await isPrepared(mine)]).toEqual([true, true, false]);
    // theirs is resolved by their own recovery (presumed abort there: their Temporal does not know it either)
    expect((await recoverPrepared(other, decide, new Map(), 0)).rolledBack).toBe(1);
    expect(await isPrepared(theirs)).toBe(false);
    expect(await rollbackBranch(shards[0].url, preScope)).toBe('rolled-back');
    for (const a of [a1, a2, a3]) expect(await account(ctx, a)).toEqual({ balance: 0, frozen: 0 });
  });

  it("when a branch of the other database on the same server is prepared for an unknown flow, then only that database's recovery rolls it back, and the refusal barrier row is in that database", async () => {
    const acc = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const x = xidOn(1);
    await prepareBranch(shards[1].url, x, credit(acc, 9));
    const decide = temporalDecider(ctx.env.client);
    expect((await recoverPrepared(shards[0].target, decide, new Map(), 0)).rolledBack).toBe(0);
    expect(await isPrepared(x)).toBe(true);
    expect((await recoverPrepared(shards[1].target, decide, new Map(), 0)).rolledBack).toBe(1);
    expect(await isPrepared(x)).toBe(false);
    expect(await barrierOps(1, x)).toEqual(['cancel', 'try']);
    expect(await barrierOps(0, x)).toEqual([]);
    // A phase-1 attempt arriving late on its own database is refused there.
    await expect(prepareBranch(shards[1].url, x, credit(acc, 9))).rejects.toBeInstanceOf(HangingBranchError);
    expect(await account(ctx, acc)).toEqual({ balance: 0, frozen: 0 });
  });

  it('when a branch was prepared under its pre-scope xid (before the upgrade), then a phase-1 retry reports it prepared and phase 2 commits it', async () => {
    const acc = await createAccount(ctx, 0, 'USD', { shard: 0 });
    const scoped = xidOn(0);
    const preScope: Xid = { gtrid: scoped.gtrid, bqual: scoped.bqual };
    expect(await prepareBranch(shards[0].url, preScope, credit(acc, 3))).toBe('prepared');
    expect(await prepareBranch(shards[0].url, scoped, credit(acc, 3))).toBe('already-prepared');
    expect(await commitBranch(shards[0].url, scoped)).toBe('committed');
    expect(await commitBranch(shards[0].url, scoped)).toBe('already-committed');
    expect(await isPrepared(preScope)).toBe(false);
    expect(await account(ctx, acc)).toEqual({ balance: 3, frozen: 0 });
    const later = xidOn(0);
    await prepareBranch(shards[0].url, { gtrid: later.gtrid, bqual: later.bqual }, credit(acc, 3));
    expect(await rollbackBranch(shards[0].url, later)).toBe('rolled-back');
    expect(await account(ctx, acc)).toEqual({ balance: 3, frozen: 0 });
  });

  it("when another transaction commits a change between two reads of a branch, then the second read sees it (the branch's connection is READ COMMITTED)", async () => {
    const acc = await createAccount(ctx, 10, 'USD', { shard: 0 });
    const seen: number[] = [];
    const read = async (conn: Connection) => {
      const [rows] = await conn.query('SELECT balance FROM accounts WHERE id = ?', [acc]);
      seen.push(Number((rows as { balance: number }[])[0].balance));
    };
    const x = xidOn(0);
    await prepareBranch(shards[0].url, x, async (conn) => {
      await read(conn);
      await ctx.stores.of('ledger')[0].db.query('UPDATE accounts SET balance = balance + 1 WHERE id = ?', { replacements: [acc] });
      await read(conn);
    });
    await rollbackBranch(shards[0].url, x);
    expect(seen).toEqual([10, 11]);
  });

  it('when an xid carries a formatID out of range, then it is refused before reaching the server', () => {
    expect(() => xidSql({ gtrid: 'g', bqual: 'b', formatId: 0 })).toThrow(/formatID/);
    expect(() => xidSql({ gtrid: 'g', bqual: 'b', formatId: 2 ** 31 })).toThrow(/formatID/);
  });
});
