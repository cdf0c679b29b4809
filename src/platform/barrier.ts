// Exactly-once effects for at-least-once activities (the sub-transaction barrier of DTM, on MySQL/MariaDB).
//
// Each branch of a flow (flow id + branch id, both assigned by the workflow and stable across retries and replays)
// writes one row per operation into `barriers`, unique on (flow_id, branch_id, op), inside the same local transaction
// as its business write:
//   1. every operation inserts its own row (INSERT IGNORE); if that was a no-op the operation already ran (duplicate)
//      or, for a forward operation, its compensation ran first and left the row (hanging): do nothing and say which;
//   2. a compensation/cancel then inserts the row of the operation it undoes; if that insert took, the forward
//      operation never committed: the row now blocks it, and there is nothing to undo (null compensation);
//   3. otherwise run the business write; an error rolls back the barrier rows together with it.
// A concurrent try and cancel serialize on the unique key: the second INSERT waits for the first transaction.
//
// Every domain database has its own `barriers` table (barrierTable below, created by each domain's first migration):
// a branch's rows live beside the business rows they guard, so the pair commits in one local transaction.
//
// Growth: at most two rows per branch operation. Rows are only needed while their flow can still run, so the retention
// job (retention.ts) deletes rows older than BARRIER_RETENTION_DAYS of the flows Temporal reports closed; a flow that
// still runs (or that Temporal could not be asked about) keeps its rows, however old.
import type { Sequelize, Transaction } from 'sequelize';
import { deleteInBatches, exec, select } from './db/sql';

export type ForwardOp = 'action' | 'try' | 'confirm';
export type UndoOp = 'compensate' | 'cancel';
export type BarrierOp = ForwardOp | UndoOp;

const undoes: Record<UndoOp, ForwardOp> = { compensate: 'action', cancel: 'try' };

export interface BranchRef {
  flowId: string;
  branchId: string;
}

export type BarrierOutcome = 'applied' | 'duplicate' | 'null-compensation' | 'hanging';

export type BarrierResult<T> = { outcome: 'applied'; value: T } | { outcome: Exclude<BarrierOutcome, 'applied'> };

/** Runs `write` at most once per (flow, branch, op), in one transaction with the barrier rows. */
export async function withBarrier<T>(
  db: Sequelize,
  ref: BranchRef,
  op: BarrierOp,
  write: (t: Transaction) => Promise<T>,
): Promise<BarrierResult<T>> {
  return retryLockConflicts(() => db.transaction(async (t) => { // READ COMMITTED: every connection's level (db/sequelize.ts)
    // Own row first, then the origin row. The other order deadlocks a racing try and cancel: once the cancel holds the
    // try row, the try's INSERT IGNORE queues a lock on the gap in front of that row, and the cancel's own row sorts
    // into that gap ('cancel' < 'try').
    const ownInserted = await insertBarrier(db, t, ref, op, op);
    if (!ownInserted) {
      const writer = await barrierWriter(db, t, ref, op);
      return { outcome: writer === op ? 'duplicate' : 'hanging' };
    }
    const origin = op in undoes ? undoes[op as UndoOp] : undefined;
    const originInserted = origin ? await insertBarrier(db, t, ref, origin, op) : false;
    if (originInserted) return { outcome: 'null-compensation' };
    return { outcome: 'applied', value: await write(t) };
  }));
}

/** MySQL/MariaDB errors after which the whole transaction can simply run again: deadlock victim, lock wait timeout. */
const lockConflictCodes = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/** Lock conflicts met by this process's barrier transactions (each one retried in place or, past the attempts, failed). */
export const lockConflicts = { retried: 0 };

export function isLockConflict(err: unknown): boolean {
  const e = err as { parent?: { code?: string }; original?: { code?: string }; code?: string };
  return lockConflictCodes.has(e?.parent?.code ?? e?.original?.code ?? e?.code ?? '');
}

/**
 * Runs a transaction again, in place, when the server chose it as a deadlock victim or its lock wait timed out: the
 * transaction rolled back whole, so a re-run is safe, and retrying here costs milliseconds where failing the activity
 * attempt would cost Temporal's backoff. After `attempts` the error goes to Temporal's retry like any other.
 */
export async function retryLockConflicts<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (err) {
      if (!isLockConflict(err)) throw err;
      lockConflicts.retried++;
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 5 * 2 ** i + Math.floor(Math.random() * 10)));
    }
  }
}

/** The DDL of a domain's barrier table. */
export const barrierTable = `CREATE TABLE barriers (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  flow_id VARCHAR(128) NOT NULL,
  branch_id VARCHAR(64) NOT NULL,
  op VARCHAR(16) NOT NULL,
  reason VARCHAR(16) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY barriers_once (flow_id, branch_id, op),
  KEY barriers_age (created_at)
)`;

async function insertBarrier(db: Sequelize, t: Transaction, ref: BranchRef, op: BarrierOp, reason: BarrierOp) {
  const sql = 'INSERT IGNORE INTO barriers (flow_id, branch_id, op, reason, created_at) VALUES (?, ?, ?, ?, NOW(3))';
  return (await exec(db, sql, [ref.flowId, ref.branchId, op, reason], t)) === 1;
}

async function barrierWriter(db: Sequelize, t: Transaction, ref: BranchRef, op: BarrierOp) {
  const sql = 'SELECT reason FROM barriers WHERE flow_id = ? AND branch_id = ? AND op = ? LOCK IN SHARE MODE';
  const rows = await select<{ reason: string }>(db, sql, [ref.flowId, ref.branchId, op], t);
  return rows[0]?.reason;
}

/** Deletes barrier rows older than `olderThan` (the retention job). */
export function purgeBarriers(db: Sequelize, olderThan: Date): Promise<number> {
  return deleteInBatches(db, 'barriers', 'created_at < ?', [olderThan]);
}
