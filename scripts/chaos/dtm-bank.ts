// The participant of a chaos run with --dtm: two "banks", each a database of its own on one of the chaos MariaDB
// servers (`a` on A, `b` on B), with accounts (balance, frozen), DTM's barrier table (src/participant) and a journal of
// every movement (gid, branch, op, account, deltas) written in the barrier's transaction — so the audit judges every
// global transaction by database state alone. One Hono app on 127.0.0.1 serves, per bank:
//   POST /:bank/saga/out | out-compensate | in | in-compensate      saga branches (out: insufficient funds → 409)
//   POST /:bank/tcc/out | in   (op try / confirm / cancel)         TCC: try-out freezes, confirm spends, cancel thaws
//   POST /:bank/msg/in                                              a 2-phase message's delivery
//   POST /:bank/msg/local {gid, account, amount, commit}            the message's local transaction (the application)
//   GET  /:bank/msg/query-prepared                                  the back-check, from the barrier (DTM's QueryPrepared)
//   POST /:bank/xa {account, delta}                                 XA phase 1 (called by the client): the move in an XA
//        transaction prepared on a connection of its own, then its branch registered with the coordinator (rolled
//        back here when the coordinator refuses it); POST /:bank/xa/phase2 (op commit / rollback) by xid
// Branch routes answer a transient 500 or 425 ONGOING now and then (`transientRate`): before the write (nothing
// happened) or after it committed (the answer is lost); GET /stats counts them. Argument: JSON { port, banks: {
// name: serverUrl }, accounts: [{ id, balance }], transientRate, coordinator } — each bank's database is created and
// seeded here; `coordinator` is the /api/dtmsvr URL XA branches register with.
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import mysql from 'mysql2/promise';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Sequelize, Transaction } from 'sequelize';
import { createDtmBarrier, dtmBarrierDdl, dtmBranch, DtmFailure, type DtmBarrier, type DtmBranchEnv } from '../../src/participant';
import { createSequelize } from '../../src/platform/db/sequelize';
import { exec, select } from '../../src/platform/db/sql';

interface Options {
  port: number;
  banks: Record<string, string>;
  accounts: Array<{ id: string; balance: number }>;
  transientRate: number;
  coordinator: string;
}

interface Bank {
  db: Sequelize;
  barrier: DtmBarrier;
  url: string;
}

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS accounts (id VARCHAR(32) PRIMARY KEY, balance BIGINT NOT NULL, frozen BIGINT NOT NULL DEFAULT 0)',
  `CREATE TABLE IF NOT EXISTS movements (id BIGINT AUTO_INCREMENT PRIMARY KEY, gid VARCHAR(128) NOT NULL, branch_id VARCHAR(128) NOT NULL,
     op VARCHAR(45) NOT NULL, account VARCHAR(32) NOT NULL, d_balance BIGINT NOT NULL, d_frozen BIGINT NOT NULL, KEY (gid))`,
];

/** What each (route, op) does to the account: [Δbalance, Δfrozen] per unit of the amount. */
const EFFECTS: Record<string, [number, number]> = {
  'saga/out:action': [-1, 0],
  'saga/out-compensate:compensate': [1, 0],
  'saga/in:action': [1, 0],
  'saga/in-compensate:compensate': [-1, 0],
  'tcc/out:try': [-1, 1],
  'tcc/out:confirm': [0, -1],
  'tcc/out:cancel': [1, -1],
  'tcc/in:try': [0, 0],
  'tcc/in:confirm': [1, 0],
  'tcc/in:cancel': [0, 0],
  'msg/in:action': [1, 0],
};

const stats = { transientBefore: 0, ongoingBefore: 0, lostAnswers: 0, calls: 0 };

async function openBank(serverUrl: string, name: string, accounts: Options['accounts']): Promise<Bank> {
  const database = `sagaflow_chaos_bank_${name}`;
  const admin = createSequelize(serverUrl, { max: 1, min: 0, acquire: 30_000, idle: 10_000, evict: 1_000 });
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
  await admin.close();
  const db = createSequelize(Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString(), { max: 24, min: 0, acquire: 30_000, idle: 10_000, evict: 1_000 });
  for (const ddl of [dtmBarrierDdl('barrier'), ...SCHEMA]) await db.query(ddl);
  for (const a of accounts) await exec(db, 'INSERT IGNORE INTO accounts (id, balance) VALUES (?, ?)', [a.id, a.balance]);
  return { db, barrier: createDtmBarrier(db, { table: 'barrier' }), url: Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString() };
}

/**
 * Moves the account by the deltas and journals it, inside the barrier's transaction. A move that would take the
 * balance or the frozen amount below zero (or names no account) is a business failure: 409, rolled back.
 */
async function move(bank: Bank, t: Transaction, at: { gid: string; branchId: string; op: string }, account: string, dBalance: number, dFrozen: number): Promise<void> {
  if (!dBalance && !dFrozen) {
    // Nothing moves (a TCC try-in): the account must exist. (Sequelize counts changed rows, so an UPDATE by 0 says 0.)
    if (!(await select(bank.db, 'SELECT id FROM accounts WHERE id = ? FOR UPDATE', [account], t)).length) throw new DtmFailure('no such account');
    return;
  }
  const sql = 'UPDATE accounts SET balance = balance + ?, frozen = frozen + ? WHERE id = ? AND balance + ? >= 0 AND frozen + ? >= 0';
  if (!(await exec(bank.db, sql, [dBalance, dFrozen, account, dBalance, dFrozen], t))) throw new DtmFailure('insufficient funds');
  await exec(bank.db, 'INSERT INTO movements (gid, branch_id, op, account, d_balance, d_frozen) VALUES (?, ?, ?, ?, ?, ?)', [at.gid, at.branchId, at.op, account, dBalance, dFrozen], t);
}

/** Transient answers on the coordinator's (and the TCC client's) branch calls, before the write or after it committed. */
function transient(rate: number): MiddlewareHandler {
  return async (c, next) => {
    stats.calls += 1;
    const r = Math.random();
    if (r < rate / 3) {
      stats.transientBefore += 1;
      return c.json({ error: 'injected' }, 500);
    }
    if (r < (2 * rate) / 3) {
      stats.ongoingBefore += 1;
      return c.json({ dtm_result: 'ONGOING' }, 425);
    }
    await next();
    if (c.res.status === 200 && Math.random() < rate / 3) {
      stats.lostAnswers += 1;
      c.res = new Response(JSON.stringify({ error: 'injected after commit' }), { status: 500, headers: { 'content-type': 'application/json' } });
    }
  };
}

function bankOf(banks: Record<string, Bank>, c: Context): Bank {
  const bank = banks[c.req.param('bank') ?? ''];
  if (!bank) throw new Error('no such bank');
  return bank;
}

function branchRoutes(app: Hono<DtmBranchEnv>, banks: Record<string, Bank>, rate: number): void {
  for (const route of ['saga/out', 'saga/out-compensate', 'saga/in', 'saga/in-compensate', 'tcc/out', 'tcc/in', 'msg/in']) {
    app.post(`/:bank/${route}`, transient(rate), (c, next) => dtmBranch(bankOf(banks, c).barrier)(c, next), async (c) => {
      const bank = bankOf(banks, c);
      const { branch } = c.var.dtm;
      const effect = EFFECTS[`${route}:${branch.op}`];
      if (!effect) return c.json({ dtm_result: 'FAILURE', message: `no ${branch.op} on ${route}` }, 400);
      const { account, amount } = await c.req.json<{ account: string; amount: number }>();
      return c.var.dtm.handle((t) => move(bank, t, branch, account, effect[0] * amount, effect[1] * amount));
    });
  }
  app.get('/:bank/msg/query-prepared', transient(rate), (c, next) => dtmBranch(bankOf(banks, c).barrier)(c, next), (c) => c.var.dtm.queryPrepared());
}

/** The message's local transaction, called by the chaos load (the application): 200 committed, 409 rolled back. */
function localRoute(app: Hono<DtmBranchEnv>, banks: Record<string, Bank>): void {
  app.post('/:bank/msg/local', async (c) => {
    const bank = bankOf(banks, c);
    const { gid, account, amount, commit } = await c.req.json<{ gid: string; account: string; amount: number; commit: boolean }>();
    try {
      await bank.barrier.msgLocal(gid, async (t) => {
        await move(bank, t, { gid, branchId: '00', op: 'msg' }, account, -amount, 0);
        if (!commit) throw new DtmFailure('the application rolled its local transaction back');
      });
      return c.json({ committed: true });
    } catch (err) {
      if (err instanceof DtmFailure) return c.json({ committed: false, message: err.message }, 409);
      throw err;
    }
  });
}

/** An xid of the bank's own: gtrid the gid, bqual the branch (formatID 1: no flow of sagaflow's claims it). */
const xidOf = (gid: string, branchId: string) => mysql.format('?, ?', [gid, branchId]);

/** Registers the XA branch, asking again while the coordinator gives no answer (the API restarting); its status. */
async function registerXa(coordinator: string, body: Record<string, string>): Promise<number> {
  for (let wait = 200, until = Date.now() + 60_000; ; wait = Math.min(wait * 2, 2_000)) {
    const status = await fetch(`${coordinator}/registerBranch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) }).then(
      async (r) => (await r.text(), r.status),
      () => 0,
    );
    if (![0, 429, 500, 502, 503, 504].includes(status) || Date.now() > until) return status;
    await sleep(wait);
  }
}

async function xaFinish(bank: Bank, xid: string, op: 'commit' | 'rollback'): Promise<void> {
  const conn = await mysql.createConnection({ uri: bank.url });
  try {
    await conn.query(`XA ${op === 'commit' ? 'COMMIT' : 'ROLLBACK'} ${xid}`);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ER_XAER_NOTA') throw err; // already done (or never prepared)
  } finally {
    conn.destroy();
  }
}

function xaRoutes(app: Hono<DtmBranchEnv>, banks: Record<string, Bank>, o: Options, self: string): void {
  app.post('/:bank/xa', transient(o.transientRate), async (c) => {
    const bank = bankOf(banks, c);
    const [gid, branchId] = [c.req.query('gid') ?? '', c.req.query('branch_id') ?? ''];
    const { account, delta } = await c.req.json<{ account: string; delta: number }>();
    const xid = xidOf(gid, branchId);
    const conn = await mysql.createConnection({ uri: bank.url });
    try {
      await conn.query(`XA START ${xid}`);
      const [r] = await conn.query('UPDATE accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0', [delta, account, delta]);
      const moved = (r as { affectedRows: number }).affectedRows === 1;
      if (moved) await conn.query('INSERT INTO movements (gid, branch_id, op, account, d_balance, d_frozen) VALUES (?, ?, ?, ?, ?, 0)', [gid, branchId, 'action', account, delta]);
      await conn.query(`XA END ${xid}`);
      if (!moved) {
        await conn.query(`XA ROLLBACK ${xid}`);
        return c.json({ dtm_result: 'FAILURE', message: 'insufficient funds' }, 409);
      }
      await conn.query(`XA PREPARE ${xid}`);
    } finally {
      conn.destroy();
    }
    const status = await registerXa(o.coordinator, { gid, trans_type: 'xa', branch_id: branchId, url: `${self}/${c.req.param('bank')}/xa/phase2` });
    if (status === 200) return c.json({ dtm_result: 'SUCCESS' });
    await xaFinish(bank, xid, 'rollback'); // the coordinator will never decide on it
    return c.json({ dtm_result: 'FAILURE', message: `registerBranch answered ${status}` }, 409);
  });
  app.post('/:bank/xa/phase2', transient(o.transientRate), async (c) => {
    const op = c.req.query('op');
    if (op !== 'commit' && op !== 'rollback') return c.json({ dtm_result: 'FAILURE', message: `no ${op} on xa` }, 400);
    await xaFinish(bankOf(banks, c), xidOf(c.req.query('gid') ?? '', c.req.query('branch_id') ?? ''), op);
    return c.json({ dtm_result: 'SUCCESS' });
  });
}

async function main() {
  const o = JSON.parse(process.argv[2] ?? '{}') as Options;
  const banks: Record<string, Bank> = {};
  for (const [name, url] of Object.entries(o.banks)) banks[name] = await openBank(url, name, o.accounts);
  const app = new Hono<DtmBranchEnv>();
  branchRoutes(app, banks, o.transientRate);
  localRoute(app, banks);
  xaRoutes(app, banks, o, `http://127.0.0.1:${o.port}`);
  app.get('/ready', (c) => c.text('ok'));
  app.get('/stats', (c) => c.json(stats));
  // A database restart or a lost connection: a 500, which the coordinator retries; no payload in the log.
  app.onError((err, c) => {
    console.error(`dtm-bank ${c.req.method} ${c.req.path}: ${err.name}: ${err.message.slice(0, 200)}`);
    return c.json({ error: 'internal' }, 500);
  });
  serve({ fetch: app.fetch, hostname: '127.0.0.1', port: o.port });
  console.log(`dtm-bank listening on 127.0.0.1:${o.port}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
