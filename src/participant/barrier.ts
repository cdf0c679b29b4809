// DTM's sub-transaction barrier for a TypeScript participant on Sequelize/mysql2: the same table as DTM's clients
// (`dtm_barrier.barrier` by default: trans_type, gid, branch_id, op, barrier_id, reason, unique on gid, branch_id, op,
// barrier_id) and the same decisions, so a service can be a branch of any DTM-protocol coordinator (sagaflow's or DTM's)
// and share a barrier table with DTM's Go client. Our own flows use src/platform/barrier.ts (keyed by flow id).
//
// One call of a branch operation, inside one local transaction with the business write:
//   1. insert the operation's own row (INSERT IGNORE); nothing inserted → the operation already ran (duplicate) or its
//      compensation ran first and left the row (hanging): skip the write, answer success;
//   2. an undo (compensate, cancel, rollback) then inserts the row of the operation it undoes; if that took, the forward
//      operation never committed and is now blocked: nothing to undo (null compensation), answer success;
//   3. otherwise run the write; a thrown error rolls the barrier rows back with it.
// DTM's client inserts the origin row before its own; we insert our own first (as src/platform/barrier.ts explains: the
// other order deadlocks a racing try and cancel). The rows and outcomes are the same.
// The 2-phase message's local transaction writes (gid, '00', 'msg', '01'); a back-check (query_prepared) inserts the
// same key with reason 'rollback' — whichever commits first decides: the message goes out, or it never will.
import type { Sequelize, Transaction } from 'sequelize';
import { exec, select } from '../platform/db/sql';
import { retryLockConflicts } from '../platform/barrier';

/** The branch a coordinator's call names (its query parameters). */
export interface DtmBranch {
  transType: string;
  gid: string;
  branchId: string;
  op: string;
}

export type DtmBarrierOutcome = 'applied' | 'duplicate' | 'hanging' | 'null-compensation';
export type DtmBarrierResult<T> = { outcome: 'applied'; value: T } | { outcome: Exclude<DtmBarrierOutcome, 'applied'> };

/** What each undo undoes, as in DTM (saga compensate, TCC cancel, XA/workflow rollback). */
const undoes: Record<string, string> = { compensate: 'action', cancel: 'try', rollback: 'action' };

/** DTM's fixed key of a message's local transaction. */
export const MSG_BRANCH = { branchId: '00', op: 'msg', barrierId: '01' } as const;

/** A business failure: the branch answers 409 FAILURE (a saga action or a try that will not succeed); rolls back. */
export class DtmFailure extends Error {}
/** Not done yet: the branch answers 425 ONGOING and the coordinator calls again later; rolls back. */
export class DtmOngoing extends Error {}

/** The DDL of DTM's barrier table, for `table` (DTM's default `dtm_barrier.barrier`). */
export function dtmBarrierDdl(table = 'dtm_barrier.barrier'): string {
  return `CREATE TABLE IF NOT EXISTS ${checkTable(table)} (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  trans_type VARCHAR(45) DEFAULT '',
  gid VARCHAR(128) DEFAULT '',
  branch_id VARCHAR(128) DEFAULT '',
  op VARCHAR(45) DEFAULT '',
  barrier_id VARCHAR(45) DEFAULT '',
  reason VARCHAR(45) DEFAULT '' COMMENT 'the operation that inserted this row',
  create_time DATETIME DEFAULT NOW(),
  update_time DATETIME DEFAULT NOW(),
  KEY (create_time),
  KEY (update_time),
  UNIQUE KEY uniq_barrier (gid, branch_id, op, barrier_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`;
}

function checkTable(table: string): string {
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?$/.test(table)) throw new Error(`not a table name: ${table}`);
  return table;
}

/** The query parameters every DTM-protocol coordinator sends to a branch; undefined when one is missing. */
export function branchFromQuery(query: (name: string) => string | undefined): DtmBranch | undefined {
  const [transType, gid, branchId, op] = ['trans_type', 'gid', 'branch_id', 'op'].map((k) => query(k) ?? '');
  if (!transType || !gid || !branchId || !op) return undefined;
  return { transType, gid, branchId, op };
}

export interface DtmBarrierOptions {
  /** The barrier table, `db.table` or a table of the connection's database; DTM's default `dtm_barrier.barrier`. */
  table?: string;
}

/** A barrier over one database: `call` per branch request, `msgLocal` and `queryPrepared` for 2-phase messages. */
export function createDtmBarrier(db: Sequelize, options: DtmBarrierOptions = {}) {
  const table = checkTable(options.table ?? 'dtm_barrier.barrier');

  const insert = async (t: Transaction | undefined, b: DtmBranch, op: string, barrierId: string, reason: string) => {
    const sql = `INSERT IGNORE INTO ${table} (trans_type, gid, branch_id, op, barrier_id, reason) VALUES (?, ?, ?, ?, ?, ?)`;
    return (await exec(db, sql, [b.transType, b.gid, b.branchId, op, barrierId, reason], t)) === 1;
  };
  const reasonOf = async (t: Transaction | undefined, b: DtmBranch, op: string, barrierId: string) => {
    const sql = `SELECT reason FROM ${table} WHERE gid = ? AND branch_id = ? AND op = ? AND barrier_id = ?${t ? ' LOCK IN SHARE MODE' : ''}`;
    return (await select<{ reason: string }>(db, sql, [b.gid, b.branchId, op, barrierId], t))[0]?.reason;
  };

  /**
   * Runs `write` at most once for the branch operation, in one transaction with its barrier rows. `barrierId` numbers
   * the barrier calls inside one request (DTM's counter: '01' for the first).
   */
  async function call<T>(branch: DtmBranch, write: (t: Transaction) => Promise<T>, barrierId = '01'): Promise<DtmBarrierResult<T>> {
    return retryLockConflicts(() =>
      db.transaction(async (t): Promise<DtmBarrierResult<T>> => {
        if (!(await insert(t, branch, branch.op, barrierId, branch.op))) {
          if (branch.op === MSG_BRANCH.op) throw new DtmFailure('duplicated: the local transaction already ran, or a back-check closed it');
          const writer = await reasonOf(t, branch, branch.op, barrierId);
          return { outcome: writer === branch.op ? 'duplicate' : 'hanging' };
        }
        const origin = undoes[branch.op];
        if (origin && (await insert(t, branch, origin, barrierId, branch.op))) return { outcome: 'null-compensation' };
        return { outcome: 'applied', value: await write(t) };
      }),
    );
  }

  /** A 2-phase message's local transaction: `write` commits together with the row a back-check looks for. */
  function msgLocal<T>(gid: string, write: (t: Transaction) => Promise<T>) {
    return call({ transType: 'msg', gid, branchId: MSG_BRANCH.branchId, op: MSG_BRANCH.op }, write, MSG_BRANCH.barrierId);
  }

  /**
   * The back-check of a message still prepared at the coordinator: 'committed' when its local transaction committed;
   * otherwise 'rolled-back' — and the row written here makes sure it never will commit (DTM's QueryPrepared).
   */
  async function queryPrepared(gid: string): Promise<'committed' | 'rolled-back'> {
    const b: DtmBranch = { transType: 'msg', gid, branchId: MSG_BRANCH.branchId, op: MSG_BRANCH.op };
    await insert(undefined, b, MSG_BRANCH.op, MSG_BRANCH.barrierId, 'rollback');
    return (await reasonOf(undefined, b, MSG_BRANCH.op, MSG_BRANCH.barrierId)) === 'rollback' ? 'rolled-back' : 'committed';
  }

  return { table, call, msgLocal, queryPrepared };
}

export type DtmBarrier = ReturnType<typeof createDtmBarrier>;
