// Periodic purge of rows that outlived their purpose, per database: barrier rows of long-finished flows (every domain
// store) and expired idempotency keys (the API's store). Safe to run in every process at once (deletes are idempotent
// and batched).
import type { Sequelize } from 'sequelize';
import type { Config } from '../config';
import { purgeBarriers } from './barrier';
import { deleteInBatches } from './db/sql';
import type { Logger } from './logger';
import type { OpenStore } from './stores';

export async function purgeExpiredBarriers(db: Sequelize, retention: Config['retention'], now = new Date()) {
  return { barriers: await purgeBarriers(db, new Date(now.getTime() - retention.barrierDays * 86_400_000)) };
}

export async function purgeExpiredIdempotencyKeys(db: Sequelize, now = new Date()) {
  return { idempotencyKeys: await deleteInBatches(db, 'idempotency_keys', 'expires_at < ?', [now]) };
}

/** Runs `purge` every RETENTION_JOB_INTERVAL_MS; failures are logged and retried at the next tick. */
export function every(intervalMs: number, purge: () => Promise<Record<string, number>>, log: Logger, unit: string) {
  const timer = setInterval(() => {
    purge()
      .then((n) => Object.values(n).some(Boolean) && log.info({ unit, ...n }, 'retention purge'))
      .catch((err) => log.warn({ unit, error: String(err?.message ?? err) }, 'retention purge failed; will retry'));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export function startRetentionJob(store: OpenStore, retention: Config['retention'], log: Logger) {
  return every(retention.intervalMs, () => purgeExpiredBarriers(store.db, retention), log, store.unit);
}
