// Reads of the dtm service's record (the API answers `query` and `all` from it once a transaction is past its
// workflow's retention, and refuses to restart a gid it shows finished).
import { select } from '../../platform/db/sql';
import type { Stores } from '../../platform/stores';
import type { TransRecord, TransStatus } from './contract';

interface Row {
  id: number;
  gid: string;
  trans_type: TransRecord['trans_type'];
  status: TransStatus;
  protocol: string;
  rollback_reason: string;
  query_prepared: string;
  custom_data: string;
  steps: string;
  payloads: string;
  options: string;
  branches: string;
  create_time: Date;
  update_time: Date;
  finish_time: Date | null;
  rollback_time: Date | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function recordOf(r: Row): TransRecord & { id: number } {
  return {
    id: Number(r.id),
    gid: r.gid,
    trans_type: r.trans_type,
    status: r.status,
    protocol: r.protocol,
    rollback_reason: r.rollback_reason,
    query_prepared: r.query_prepared,
    custom_data: r.custom_data,
    steps: JSON.parse(r.steps),
    payloads: JSON.parse(r.payloads),
    options: JSON.parse(r.options),
    branches: JSON.parse(r.branches),
    create_time: iso(r.create_time)!,
    update_time: iso(r.update_time)!,
    finish_time: iso(r.finish_time),
    rollback_time: iso(r.rollback_time),
  };
}

export async function findTransaction(stores: Stores, gid: string): Promise<(TransRecord & { id: number }) | undefined> {
  const [row] = await select<Row>(stores.db('dtm'), 'SELECT * FROM dtm_trans WHERE gid = ?', [gid]);
  return row && recordOf(row);
}

/** Newest first, `limit` per page, below the id `position` when given; optionally of one status. */
export async function listTransactions(stores: Stores, { position, limit, status }: { position?: number; limit: number; status?: string }) {
  const where = [position ? 'id < ?' : '', status ? 'status = ?' : ''].filter(Boolean);
  const rows = await select<Row>(
    stores.db('dtm'),
    `SELECT * FROM dtm_trans ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    [...(position ? [position] : []), ...(status ? [status] : []), limit],
  );
  return rows.map(recordOf);
}

/** Transactions by type and status, for the metrics scrape. */
export async function countTransactions(stores: Stores): Promise<Array<{ trans_type: string; status: string; n: number }>> {
  const rows = await select<{ trans_type: string; status: string; n: number }>(stores.db('dtm'), 'SELECT trans_type, status, COUNT(*) AS n FROM dtm_trans GROUP BY trans_type, status', []);
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}
