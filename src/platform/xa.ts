// XA branches on MySQL/MariaDB (activity side): one branch of a two-phase commit is one local transaction on one
// database, run on ONE dedicated mysql2 connection (not a pooled Sequelize transaction: XA START … XA PREPARE must stay
// on the connection that started it, and the connection is closed right after PREPARE).
//
// - prepareBranch(): XA START, the barrier row (op `try`) and the business write, XA END, XA PREPARE. After PREPARE the
//   branch survives the connection closing, the worker dying and the server restarting (checked on MariaDB 10.11
//   without binlog: kill -9 and clean restarts keep prepared XA); it holds its row locks until phase 2.
//   A retry whose earlier attempt prepared but lost its result finds the branch with XA RECOVER and reports it
//   prepared; one whose branch was already rolled back (a `cancel` barrier row) is refused (hanging).
// - commitBranch() / rollbackBranch(): on any connection, idempotent. "Unknown XID" (1397) after a commit means it is
//   done when the branch's `try` barrier row is committed; a rollback of a branch never prepared writes the `cancel`
//   barrier row (and the `try` row in its place), so a late phase-1 retry can no longer take effect.
// - An xid is `<gtrid>,<bqual>`: gtrid = the flow's workflow id, bqual = the branch id, both readable in XA RECOVER by
//   an operator; each at most 64 bytes (MySQL's limits), checked here.
import mysql, { type Connection } from 'mysql2/promise';
import { retryLockConflicts } from './barrier';

export const XA_FORMAT_ID = 1;
const MAX_XID_PART = 64;

export interface Xid {
  gtrid: string;
  bqual: string;
}

export type XaBranchOutcome = 'prepared' | 'already-prepared' | 'already-committed';

/** The business write of a branch, on the branch's connection, inside XA START … XA END. Rejections throw. */
export type BranchWork = (conn: Connection) => Promise<void>;

export function xidSql(x: Xid): string {
  for (const part of [x.gtrid, x.bqual]) {
    if (Buffer.byteLength(part) > MAX_XID_PART) throw new Error(`xid part longer than ${MAX_XID_PART} bytes: ${part}`);
    if (!/^[A-Za-z0-9_.:@-]+$/.test(part)) throw new Error(`xid part with unexpected characters: ${part}`);
  }
  return `'${x.gtrid}','${x.bqual}',${XA_FORMAT_ID}`;
}

const codeOf = (err: unknown) => (err as { code?: string })?.code ?? '';
export const isUnknownXid = (err: unknown) => codeOf(err) === 'ER_XAER_NOTA';

export function connect(url: string): Promise<Connection> {
  return mysql.createConnection({ uri: url, connectTimeout: 5_000, supportBigNumbers: true, bigNumberStrings: false, timezone: 'Z' });
}

async function withConnection<T>(url: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await connect(url);
  try {
    return await fn(conn);
  } finally {
    conn.destroy(); // never reused: a connection that ran XA is not handed to anyone else
  }
}

/** Every prepared XA transaction on the server of `conn` (XA RECOVER is server-wide, not per database). */
export async function recoverXids(conn: Connection): Promise<Xid[]> {
  const [rows] = await conn.query('XA RECOVER');
  return (rows as { formatID: number; gtrid_length: number; bqual_length: number; data: Buffer | string }[])
    .filter((r) => Number(r.formatID) === XA_FORMAT_ID)
    .map((r) => {
      const data = Buffer.isBuffer(r.data) ? r.data : Buffer.from(String(r.data));
      const g = Number(r.gtrid_length);
      return { gtrid: data.subarray(0, g).toString(), bqual: data.subarray(g, g + Number(r.bqual_length)).toString() };
    });
}

const same = (a: Xid, b: Xid) => a.gtrid === b.gtrid && a.bqual === b.bqual;

async function barrierOps(conn: Connection, x: Xid): Promise<Set<string>> {
  const [rows] = await conn.query('SELECT op FROM barriers WHERE flow_id = ? AND branch_id = ?', [x.gtrid, x.bqual]);
  return new Set((rows as { op: string }[]).map((r) => r.op));
}

export class HangingBranchError extends Error {}

/** Phase 1 of one branch. Lock conflicts roll the branch back and run it again in place. */
export function prepareBranch(url: string, x: Xid, work: BranchWork): Promise<XaBranchOutcome> {
  const id = xidSql(x);
  return withConnection(url, async (conn) => {
    if ((await recoverXids(conn)).some((p) => same(p, x))) return 'already-prepared';
    const ops = await barrierOps(conn, x);
    if (ops.has('cancel')) throw new HangingBranchError(`branch ${x.bqual} of ${x.gtrid} arrived after its rollback`);
    if (ops.has('try')) return 'already-committed';
    // Short waits, few rounds: a branch waiting on a row another prepared branch holds waits for that flow's phase 2;
    // past that the attempt fails and Temporal retries it (the attempt must end well inside its start-to-close).
    await conn.query('SET SESSION innodb_lock_wait_timeout = 2');
    return retryLockConflicts(async (): Promise<XaBranchOutcome> => {
      await conn.query(`XA START ${id}`);
      try {
        const [r] = await conn.query(
          "INSERT IGNORE INTO barriers (flow_id, branch_id, op, reason, created_at) VALUES (?, ?, 'try', 'try', NOW(3))",
          [x.gtrid, x.bqual],
        );
        if ((r as { affectedRows: number }).affectedRows !== 1) throw new HangingBranchError(`branch ${x.bqual} of ${x.gtrid} arrived after its rollback`);
        await work(conn);
        await conn.query(`XA END ${id}`);
        await conn.query(`XA PREPARE ${id}`);
        return 'prepared';
      } catch (err) {
        await conn.query(`XA END ${id}`).catch(() => undefined);
        await conn.query(`XA ROLLBACK ${id}`).catch(() => undefined);
        throw err;
      }
    }, 3);
  });
}

/** Phase 2, commit: idempotent (a branch committed earlier answers "unknown XID" and has its `try` row). */
export function commitBranch(url: string, x: Xid): Promise<'committed' | 'already-committed'> {
  const id = xidSql(x);
  return withConnection(url, async (conn) => {
    try {
      await conn.query(`XA COMMIT ${id}`);
      return 'committed';
    } catch (err) {
      if (!isUnknownXid(err)) throw err;
      const ops = await barrierOps(conn, x);
      if (ops.has('try') && !ops.has('cancel')) return 'already-committed';
      // Not prepared, not committed: only a decision taken without every branch prepared gets here. Retried.
      throw new Error(`XA COMMIT ${x.gtrid}/${x.bqual}: the branch is neither prepared nor committed`, { cause: err });
    }
  });
}

/**
 * Phase 2, rollback: idempotent. A prepared branch is rolled back; then the `cancel` barrier row is written (with the
 * `try` row when phase 1 never committed one), so a phase-1 attempt still in flight or arriving late cannot prepare.
 * A phase-1 attempt still running holds the `try` row: the insert waits for it (a short lock wait, then a retry).
 */
export function rollbackBranch(url: string, x: Xid): Promise<'rolled-back' | 'null-rollback' | 'already-rolled-back'> {
  const id = xidSql(x);
  return withConnection(url, async (conn) => {
    let rolledBack = false;
    try {
      await conn.query(`XA ROLLBACK ${id}`);
      rolledBack = true;
    } catch (err) {
      if (!isUnknownXid(err)) throw err;
    }
    await conn.query('SET SESSION innodb_lock_wait_timeout = 5');
    return retryLockConflicts(async () => {
      await conn.beginTransaction();
      try {
        const insert = "INSERT IGNORE INTO barriers (flow_id, branch_id, op, reason, created_at) VALUES (?, ?, ?, 'cancel', NOW(3))";
        const [own] = await conn.query(insert, [x.gtrid, x.bqual, 'cancel']);
        const [origin] = await conn.query(insert, [x.gtrid, x.bqual, 'try']);
        const originTaken = (origin as { affectedRows: number }).affectedRows === 1;
        const ownTaken = (own as { affectedRows: number }).affectedRows === 1;
        if (!originTaken && !rolledBack) {
          const [rows] = await conn.query("SELECT reason FROM barriers WHERE flow_id = ? AND branch_id = ? AND op = 'try'", [x.gtrid, x.bqual]);
          if ((rows as { reason: string }[])[0]?.reason === 'try') {
            throw new Error(`XA ROLLBACK ${x.gtrid}/${x.bqual}: the branch was already committed`);
          }
        }
        await conn.commit();
        if (rolledBack) return 'rolled-back';
        return ownTaken ? 'null-rollback' : 'already-rolled-back';
      } catch (err) {
        await conn.rollback().catch(() => undefined);
        throw err;
      }
    });
  });
}
