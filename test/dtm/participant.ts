// A DTM participant for the coordinator's tests: a real HTTP server on 127.0.0.1 (node:http) over a real MariaDB
// database of its own, each effect guarded by DTM's sub-transaction barrier (the `barrier` table, unique on gid,
// branch_id, op, barrier_id; a compensation or cancel of nothing and a late action after its compensation are no-ops).
// The payload names the account and amount; a test scripts answers per branch (FAILURE, ONGOING, 500) beforehand.
//   action / compensate (saga), try / confirm / cancel (tcc), msg actions: an account's balance moves by ±amount;
//   try moves it into `trying`, confirm out of `trying` into the balance, cancel back out of `trying`.
//   /xa: phase 1 in a local XA transaction (then registers its branch with the coordinator), /xa/phase2: commit/rollback.
//   /query_prepared: the 2-phase message back-check (DTM's: insert the `rollback` row unless the local transaction's
//   `msg` row is there, then answer by which one is).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import mysql, { type Pool, type PoolConnection } from 'mysql2/promise';

export interface Effect {
  gid: string;
  branch_id: string;
  op: string;
  account: string;
  amount: number;
}

type Scripted = number | 'FAILURE' | 'ONGOING';

export interface Participant {
  url: string;
  db: Pool;
  /** Answers to give to (gid, branch_id, op) before handling it for real, in order. */
  script(gid: string, branchId: string, op: string, answers: Scripted[]): void;
  /** Headers each call came with, by `gid/branch_id/op`. */
  headers: Map<string, Record<string, string | string[] | undefined>>;
  calls: Array<{ gid: string; branch_id: string; op: string; method: string }>;
  balance(account: string): Promise<{ balance: number; trying: number }>;
  effects(gid: string): Promise<Effect[]>;
  /** A 2-phase message's local transaction: the `msg` barrier row and the effect, committed or rolled back together. */
  localTransaction(gid: string, account: string, amount: number, commit: boolean): Promise<boolean>;
  close(): Promise<void>;
}

export const participantSchema = [
  `CREATE TABLE IF NOT EXISTS barrier (
    id BIGINT AUTO_INCREMENT PRIMARY KEY, trans_type VARCHAR(45) DEFAULT '', gid VARCHAR(128) DEFAULT '', branch_id VARCHAR(128) DEFAULT '',
    op VARCHAR(45) DEFAULT '', barrier_id VARCHAR(45) DEFAULT '', reason VARCHAR(45) DEFAULT '', create_time DATETIME DEFAULT NOW(),
    UNIQUE KEY gid (gid, branch_id, op, barrier_id))`,
  `CREATE TABLE IF NOT EXISTS accounts (user_id VARCHAR(64) PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0, trying BIGINT NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS effects (id BIGINT AUTO_INCREMENT PRIMARY KEY, gid VARCHAR(128), branch_id VARCHAR(128), op VARCHAR(45), account VARCHAR(64), amount BIGINT)`,
];

/** The participants' database: `<the dtm service's database>_parts` on its server (the app user's grants cover it). */
export async function participantDatabase(dtmUrl: string): Promise<string> {
  const u = new URL(dtmUrl);
  const name = `${decodeURIComponent(u.pathname.slice(1))}_parts`;
  const admin = await mysql.createConnection({ uri: `${u.protocol}//${u.username}:${u.password}@${u.host}/` });
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${name}\``);
  await admin.end();
  u.pathname = `/${name}`;
  const conn = await mysql.createConnection({ uri: u.toString() });
  for (const ddl of participantSchema) await conn.query(ddl);
  await conn.end();
  return u.toString();
}

const origin: Record<string, string> = { cancel: 'try', compensate: 'action' };

/** DTM's barrier: true when the business part should run (not a duplicate, not a null compensation, not hanging). */
async function barrier(c: PoolConnection, transType: string, gid: string, branchId: string, op: string): Promise<boolean> {
  const ins = (o: string) => c.query('INSERT IGNORE INTO barrier (trans_type, gid, branch_id, op, barrier_id, reason) VALUES (?, ?, ?, ?, ?, ?)', [transType, gid, branchId, o, '01', op]);
  const originRows = origin[op] ? ((await ins(origin[op]))[0] as { affectedRows: number }).affectedRows : 0;
  const current = ((await ins(op))[0] as { affectedRows: number }).affectedRows;
  return !(((op === 'cancel' || op === 'compensate') && originRows > 0) || current === 0);
}

const moves: Record<string, (amount: number) => [balance: number, trying: number]> = {
  action: (a) => [a, 0],
  compensate: (a) => [-a, 0],
  try: (a) => [0, a],
  confirm: (a) => [a, -a],
  cancel: (a) => [0, -a],
};

async function applyEffect(c: PoolConnection, e: Effect) {
  const [db, dt] = moves[e.op](e.amount);
  await c.query('INSERT INTO accounts (user_id, balance, trying) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE balance = balance + VALUES(balance), trying = trying + VALUES(trying)', [e.account, db, dt]);
  await c.query('INSERT INTO effects (gid, branch_id, op, account, amount) VALUES (?, ?, ?, ?, ?)', [e.gid, e.branch_id, e.op, e.account, e.amount]);
}

async function inTransaction<T>(db: Pool, fn: (c: PoolConnection) => Promise<T>): Promise<T> {
  const c = await db.getConnection();
  try {
    await c.beginTransaction();
    const r = await fn(c);
    await c.commit();
    return r;
  } catch (err) {
    await c.rollback();
    throw err;
  } finally {
    c.release();
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (d) => (s += d));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startParticipant(dbUrl: string, coordinator?: () => string): Promise<Participant> {
  const db = mysql.createPool({ uri: dbUrl, connectionLimit: 8 });
  const scripts = new Map<string, Scripted[]>();
  const headers = new Map<string, Record<string, string | string[] | undefined>>();
  const calls: Participant['calls'] = [];

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = (k: string) => url.searchParams.get(k) ?? '';
    const [gid, branchId, op, transType] = [q('gid'), q('branch_id'), q('op'), q('trans_type')];
    const key = `${gid}/${branchId}/${op}`;
    calls.push({ gid, branch_id: branchId, op, method: req.method ?? '' });
    headers.set(key, req.headers);
    const raw = await readBody(req);
    const next = scripts.get(key)?.shift();
    if (next !== undefined) {
      if (next === 'FAILURE') return reply(res, 409, { dtm_result: 'FAILURE', message: 'scripted failure' });
      if (next === 'ONGOING') return reply(res, 425, { dtm_result: 'ONGOING' });
      return reply(res, next, { error: 'scripted' });
    }
    if (url.pathname === '/query_prepared') {
      const reason = await inTransaction(db, async (c) => {
        await c.query('INSERT IGNORE INTO barrier (trans_type, gid, branch_id, op, barrier_id, reason) VALUES (?, ?, ?, ?, ?, ?)', [transType, gid, '00', 'msg', '01', 'rollback']);
        const [rows] = await c.query('SELECT reason FROM barrier WHERE gid = ? AND branch_id = ? AND op = ? AND barrier_id = ?', [gid, '00', 'msg', '01']);
        return (rows as Array<{ reason: string }>)[0]?.reason;
      });
      return reason === 'rollback' ? reply(res, 409, { dtm_result: 'FAILURE', message: 'the local transaction rolled back' }) : reply(res, 200, { dtm_result: 'SUCCESS' });
    }
    const payload = raw ? JSON.parse(raw) : {};
    if (url.pathname === '/xa') return xaPhaseOne(gid, branchId, payload, res);
    if (url.pathname === '/xa/phase2') return xaPhaseTwo(gid, branchId, op, res);
    const effect: Effect = { gid, branch_id: branchId, op, account: String(payload.account), amount: Number(payload.amount) };
    if (!moves[op]) return reply(res, 400, { error: `unknown op ${op}` });
    // The business rule: no account goes below zero (a rejection is FAILURE, and the barrier row rolls back with it).
    const outcome = await inTransaction(db, async (c) => {
      if (!(await barrier(c, transType, gid, branchId, op))) return 'skipped';
      await applyEffect(c, effect);
      const [rows] = await c.query('SELECT balance + LEAST(trying, 0) AS available FROM accounts WHERE user_id = ?', [effect.account]);
      if (Number((rows as Array<{ available: number }>)[0].available) < 0) throw Object.assign(new Error('insufficient'), { business: true });
      return 'applied';
    }).catch((err) => {
      if (err.business) return 'rejected';
      throw err;
    });
    if (outcome === 'rejected') return reply(res, 409, { dtm_result: 'FAILURE', message: 'insufficient balance' });
    return reply(res, 200, { dtm_result: 'SUCCESS' });
  }

  // XA phase 1 (the participant's `action`): XA START … XA PREPARE on a connection of its own, then its branch is
  // registered with the coordinator; phase 2 commits or rolls back by xid on any connection.
  const xid = (gid: string, branchId: string) => `'${gid}','${branchId}'`;
  async function xaPhaseOne(gid: string, branchId: string, payload: { account: string; amount: number }, res: ServerResponse) {
    const conn = await mysql.createConnection({ uri: dbUrl });
    try {
      await conn.query(`XA START ${xid(gid, branchId)}`);
      await conn.query('INSERT INTO accounts (user_id, balance) VALUES (?, ?) ON DUPLICATE KEY UPDATE balance = balance + VALUES(balance)', [payload.account, payload.amount]);
      await conn.query('INSERT INTO effects (gid, branch_id, op, account, amount) VALUES (?, ?, ?, ?, ?)', [gid, branchId, 'action', payload.account, payload.amount]);
      await conn.query(`XA END ${xid(gid, branchId)}`);
      await conn.query(`XA PREPARE ${xid(gid, branchId)}`);
    } finally {
      conn.destroy();
    }
    const r = await fetch(`${coordinator!()}/registerBranch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gid, trans_type: 'xa', branch_id: branchId, url: `${base}/xa/phase2` }),
    });
    return reply(res, r.status === 200 ? 200 : 409, await r.json());
  }
  async function xaPhaseTwo(gid: string, branchId: string, op: string, res: ServerResponse) {
    const conn = await mysql.createConnection({ uri: dbUrl });
    try {
      await conn.query(`XA ${op === 'commit' ? 'COMMIT' : 'ROLLBACK'} ${xid(gid, branchId)}`);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_XAER_NOTA') throw err; // already done (or never prepared)
    } finally {
      conn.destroy();
    }
    return reply(res, 200, { dtm_result: 'SUCCESS' });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => reply(res, 500, { error: String(err?.message ?? err) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    db,
    headers,
    calls,
    script: (gid, branchId, op, answers) => scripts.set(`${gid}/${branchId}/${op}`, [...answers]),
    async balance(account) {
      const [rows] = await db.query('SELECT balance, trying FROM accounts WHERE user_id = ?', [account]);
      const r = (rows as Array<{ balance: number; trying: number }>)[0];
      return { balance: Number(r?.balance ?? 0), trying: Number(r?.trying ?? 0) };
    },
    async effects(gid) {
      const [rows] = await db.query('SELECT gid, branch_id, op, account, amount FROM effects WHERE gid = ? ORDER BY id', [gid]);
      return (rows as Effect[]).map((r) => ({ ...r, amount: Number(r.amount) }));
    },
    async localTransaction(gid, account, amount, commit) {
      return inTransaction(db, async (c) => {
        const [r] = await c.query('INSERT IGNORE INTO barrier (trans_type, gid, branch_id, op, barrier_id, reason) VALUES (?, ?, ?, ?, ?, ?)', ['msg', gid, '00', 'msg', '01', 'msg']);
        // The back-check already decided (its `rollback` row is there): too late, as DTM's barrier says.
        if ((r as { affectedRows: number }).affectedRows === 0) throw Object.assign(new Error('msg duplicate'), { business: true });
        await applyEffect(c, { gid, branch_id: '00', op: 'action', account, amount });
        if (!commit) throw Object.assign(new Error('local transaction rolled back'), { business: true });
        return true;
      }).catch((err) => {
        if (!err.business) throw err;
        return false;
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await db.end();
    },
  };
}
