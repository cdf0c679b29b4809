// Periodic purge of rows that outlived their purpose: barrier rows of long-finished flows and expired idempotency keys.
// Safe to run in every worker at once (deletes are idempotent and batched).
import type { Sequelize } from 'sequelize';
import { purgeBarriers } from '../activities/barrier';
import type { Config } from '../config';
import { deleteInBatches } from '../db/sql';
import type { Logger } from '../logger';

export async function purgeExpired(db: Sequelize, retention: Config['retention'], now = new Date()) {
  const barriers = await purgeBarriers(db, new Date(now.getTime() - retention.barrierDays * 86_400_000));
  const idempotencyKeys = await deleteInBatches(db, 'idempotency_keys', 'expires_at < ?', [now]);
  return { barriers, idempotencyKeys };
}

export function startRetentionJob(db: Sequelize, retention: Config['retention'], log: Logger) {
  const timer = setInterval(() => {
    purgeExpired(db, retention)
      .then((n) => (n.barriers || n.idempotencyKeys) && log.info(n, 'retention purge'))
      .catch((err) => log.warn({ error: String(err?.message ?? err) }, 'retention purge failed; will retry'));
  }, retention.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
