// XA branches on MySQL/MariaDB (activity side): one branch of a two-phase commit is one local transaction on one
// database, run on ONE dedicated mysql2 connection (not a pooled Sequelize transaction: XA START … XA PREPARE must stay
// on the connection that started it, and the connection is closed right after PREPARE). Every XA connection runs at
// READ COMMITTED, like the pooled ones (the barrier's reasoning assumes it).
//
// - prepareBranch(): XA START, the barrier row (op `try`) and the business write, XA END, XA PREPARE. After PREPARE the
//   branch survives the connection closing, the worker dying and the server restarting (checked on MariaDB 10.11
//   without binlog: kill -9 and clean restarts keep prepared XA); it holds its row locks until phase 2.
//   A retry whose earlier attempt committed finds the committed `try` barrier row; one whose branch was rolled back
//   finds the `cancel` row and is refused (hanging); one whose earlier attempt prepared is answered "XID already
//   exists" by XA START. Only that rare answer (and a barrier row held by a branch of the pre-scope xid format) asks
//   XA RECOVER: the normal prepare issues none (MySQL 8 also wants XA_RECOVER_ADMIN for it; see the README).
// - commitBranch() / rollbackBranch(): on any connection, idempotent. "Unknown XID" (1397) after a commit means it is
//   done when the branch's `try` barrier row is committed; a rollback of a branch never prepared writes the `cancel`
//   barrier row (and the `try` row in its place), so a late phase-1 retry can no longer take effect.
// - An xid is `<gtrid>,<bqual>,<formatID>`: gtrid = the flow's workflow id, bqual = the branch id (both readable in
//   XA RECOVER, each at most 64 bytes, checked here; they are also the branch's barrier key), formatID = the branch's
//   owner: this deployment (Temporal namespace + task-queue prefix) and the database the branch writes (xaFormatId).
//   XA RECOVER is server-wide: the recovery job of a database resolves only the xids of its own formatID, so a second
//   deployment or namespace on the same server, or another database's branches, are never touched. (The server tells
//   xids apart by gtrid and bqual alone — the formatID labels the owner, it does not separate two branches: the gtrid's
//   random transfer id does.) Branches prepared before xids were scoped carry formatID 1 (LEGACY_FORMAT_ID): phase 1
//   retries and phase 2 still find them (see phase2()).
import { createHash } from 'node:crypto';
import mysql, { type Connection } from 'mysql2/promise';
import { isLockConflict, retryLockConflicts } from './barrier';
import { SET_ISOLATION } from './db/sequelize';

/** The formatID of every xid prepared before xids were scoped to a deployment and a database. */
export const LEGACY_FORMAT_ID = 1;
const MAX_XID_PART = 64;

export interface Xid {
  gtrid: string;
  bqual: string;
  /** Absent in xids recorded before scoping: LEGACY_FORMAT_ID. */
  formatId?: number;
}

/** Whose XA branches these are: a Temporal namespace and task-queue prefix (one deployment). */
export interface XaDeployment {
  namespace: string;
  taskQueuePrefix: string;
}

/**
 * The formatID of the branches a deployment prepares on the database of `url`: 31 bits of a hash of the namespace,
 * the task-queue prefix and the database name (never LEGACY_FORMAT_ID). The same for every worker of the deployment
 * (the host in the URL does not count: one database may be reached under several names).
 */
export function xaFormatId(d: XaDeployment, url: string): number {
  const database = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  const h = createHash('sha256').update(`${d.namespace}\n${d.taskQueuePrefix}\n${database}`).digest();
  return 0x40000000 | (h.readUInt32BE(0) & 0x3fffffff);
}

export type XaBranchOutcome = 'prepared' | 'already-prepared' | 'already-committed';

/** The business write of a branch, on the branch's connection, inside XA START … XA END. Rejections throw. */
export type BranchWork = (conn: Connection) => Promise<void>;

const formatOf = (x: Xid) => x.formatId ?? LEGACY_FORMAT_ID;
const legacyOf = (x: Xid): Xid | undefined => (formatOf(x) === LEGACY_FORMAT_ID ? undefined : { gtrid: x.gtrid, bqual: x.bqual });

export function xidSql(x: Xid): string {
  for (const part of [x.gtrid, x.bqual]) {
    if (Buffer.byteLength(part) > MAX_XID_PART) throw new Error(`xid part longer than ${MAX_XID_PART} bytes: ${part}`);
    if (!/^[A-Za-z0-9_.:@-]+$/.test(part)) throw new Error(`xid part with unexpected characters: ${part}`);
  }
  const f = formatOf(x);
  if (!Number.isInteger(f) || f < 1 || f > 0x7fffffff) throw new Error(`xid formatID out of range: ${f}`);
  return `'${x.gtrid}','${x.bqual}',${f}`;
}

const codeOf = (err: unknown) => (err as { code?: string })?.code ?? '';
export const isUnknownXid = (err: unknown) => codeOf(err) === 'ER_XAER_NOTA';
const isDuplicateXid = (err: unknown) => codeOf(err) === 'ER_XAER_DUPID';

export async function connect(url: string): Promise<Connection> {
  const conn = await mysql.createConnection({ uri: url, connectTimeout: 5_000, supportBigNumbers: true, bigNumberStrings: false, timezone: 'Z' });
  try {
    await conn.query(SET_ISOLATION);
  } catch (err) {
    conn.destroy();
    throw err;
  }
  return conn;
}

async function withConnection<T>(url: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await connect(url);
  try {
    return await fn(conn);
  } finally {
    conn.destroy(); // never reused: a connection that ran XA is not handed to anyone else
  }
}

/** The prepared XA transactions on the server of `conn` (XA RECOVER is server-wide), of the given formatIDs only. */
export async function recoverXids(conn: Connection, formatIds: readonly number[]): Promise<Required<Xid>[]> {
  const [rows] = await conn.query('XA RECOVER');
  return (rows as { formatID: number; gtrid_length: number; bqual_length: number; data: Buffer | string }[])
    .filter((r) => formatIds.includes(Number(r.formatID)))
    .map((r) => {
      const data = Buffer.isBuffer(r.data) ? r.data : Buffer.from(String(r.data));
      const g = Number(r.gtrid_length);
      const xid = { gtrid: data.subarray(0, g).toString(), bqual: data.subarray(g, g + Number(r.bqual_length)).toString() };
      return { ...xid, formatId: Number(r.formatID) };
    });
}

/** The first of `xids` that is prepared on the server, if any (one XA RECOVER: only on the rare paths below). */
async function preparedAmong(conn: Connection, xids: Xid[]): Promise<Xid | undefined> {
  const found = await recoverXids(conn, [...new Set(xids.map(formatOf))]);
  return xids.find((x) => found.some((p) => p.gtrid === x.gtrid && p.bqual === x.bqual && p.formatId === formatOf(x)));
}

async function barrierOps(conn: Connection, x: Xid): Promise<Set<string>> {
  const [rows] = await conn.query('SELECT op FROM barriers WHERE flow_id = ? AND branch_id = ?', [x.gtrid, x.bqual]);
  return new Set((rows as { op: string }[]).map((r) => r.op));
}

export class HangingBranchError extends Error {}

/** Phase 1 of one branch. Lock conflicts roll the branch back and run it again in place. */
export function prepareBranch(url: string, x: Xid, work: BranchWork): Promise<XaBranchOutcome> {
  const id = xidSql(x);
  return withConnection(url, async (conn) => {
    const ops = await barrierOps(conn, x);
    if (ops.has('cancel')) throw new HangingBranchError(`branch ${x.bqual} of ${x.gtrid} arrived after its rollback`);
    if (ops.has('try')) return 'already-committed';
    // Short waits, few rounds: a branch waiting on a row another prepared branch holds waits for that flow's phase 2;
    // past that the attempt fails and Temporal retries it (the attempt must end well inside its start-to-close).
    await conn.query('SET SESSION innodb_lock_wait_timeout = 2');
    return retryLockConflicts(async (): Promise<XaBranchOutcome> => {
      try {
        await conn.query(`XA START ${id}`);
      } catch (err) {
        if (!isDuplicateXid(err)) throw err;
        // The xid exists: an earlier attempt prepared it (done), or is still running on another connection (retry).
        // MariaDB (and MySQL) compare xids by gtrid and bqual only: the pre-scope xid of the branch answers this too.
        const legacy = legacyOf(x);
        if (await preparedAmong(conn, legacy ? [x, legacy] : [x])) return 'already-prepared';
        throw new Error(`an earlier attempt of branch ${x.bqual} of ${x.gtrid} is still running`, { cause: err });
      }
      let stage: 'barrier' | 'work' = 'barrier';
      try {
        const [r] = await conn.query(
          "INSERT IGNORE INTO barriers (flow_id, branch_id, op, reason, created_at) VALUES (?, ?, 'try', 'try', NOW(3))",
          [x.gtrid, x.bqual],
        );
        if ((r as { affectedRows: number }).affectedRows !== 1) throw new HangingBranchError(`branch ${x.bqual} of ${x.gtrid} arrived after its rollback`);
        stage = 'work';
        await work(conn);
        await conn.query(`XA END ${id}`);
        await conn.query(`XA PREPARE ${id}`);
        return 'prepared';
      } catch (err) {
        await conn.query(`XA END ${id}`).catch(() => undefined);
        await conn.query(`XA ROLLBACK ${id}`).catch(() => undefined);
        // The barrier row held by someone else: a rollback writing it (it commits soon), or the same branch prepared
        // under its pre-scope xid by an attempt before the upgrade (it stays until phase 2 finds it there).
        const legacy = legacyOf(x);
        if (stage === 'barrier' && legacy && isLockConflict(err) && (await preparedAmong(conn, [legacy]))) return 'already-prepared';
        throw err;
      }
    }, 3);
  });
}

/** XA COMMIT or XA ROLLBACK of exactly `x`; false when the server does not know it (finished, or never prepared). */
export async function finishXid(conn: Connection, verb: 'COMMIT' | 'ROLLBACK', x: Xid): Promise<boolean> {
  try {
    await conn.query(`XA ${verb} ${xidSql(x)}`);
    return true;
  } catch (err) {
    if (!isUnknownXid(err)) throw err;
    return false;
  }
}

/**
 * XA COMMIT or XA ROLLBACK of `x`, else (unknown) of its pre-scope xid: a branch a flow prepared before the upgrade is
 * finished by the same flow's phase 2 after it. True when one of them was found prepared.
 */
async function phase2(conn: Connection, verb: 'COMMIT' | 'ROLLBACK', x: Xid): Promise<boolean> {
  if (await finishXid(conn, verb, x)) return true;
  const legacy = legacyOf(x);
  return legacy ? finishXid(conn, verb, legacy) : false;
}

/** Phase 2, commit: idempotent (a branch committed earlier answers "unknown XID" and has its `try` row). */
export function commitBranch(url: string, x: Xid): Promise<'committed' | 'already-committed'> {
  xidSql(x); // a malformed xid is refused before connecting
  return withConnection(url, async (conn) => {
    if (await phase2(conn, 'COMMIT', x)) return 'committed';
    const ops = await barrierOps(conn, x);
    if (ops.has('try') && !ops.has('cancel')) return 'already-committed';
    // Not prepared, not committed: only a decision taken without every branch prepared gets here. Retried.
    throw new Error(`XA COMMIT ${x.gtrid}/${x.bqual}: the branch is neither prepared nor committed`);
  });
}

/**
 * Phase 2, rollback: idempotent. A prepared branch is rolled back; then the `cancel` barrier row is written (with the
 * `try` row when phase 1 never committed one), so a phase-1 attempt still in flight or arriving late cannot prepare.
 * A phase-1 attempt still running holds the `try` row: the insert waits for it (a short lock wait, then a retry).
 */
export function rollbackBranch(url: string, x: Xid): Promise<'rolled-back' | 'null-rollback' | 'already-rolled-back'> {
  xidSql(x);
  return withConnection(url, async (conn) => {
    const rolledBack = await phase2(conn, 'ROLLBACK', x);
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
