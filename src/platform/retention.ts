// Periodic purge of rows that outlived their purpose, per database: barrier rows of finished flows, published outbox
// rows and consumed event ids (every domain store); expired idempotency keys, the webhooks consumer's inbox, finished
// webhook deliveries and old dead letters (the API's store). Safe to run in every process at once (deletes are
// idempotent and batched).
//
// A barrier row is deleted only when it is older than BARRIER_RETENTION_DAYS *and* its flow can no longer run. Age
// alone is not enough: a flow can outlive any retention (an approval that waits, a compensation retried for days),
// and a cancel that finds its try's row gone takes it for a null compensation — stock reserved and money held for
// ever. So the job asks Temporal about every flow with old rows and keeps the rows of those still running (and of
// those it could not ask about: when unsure, keep).
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Sequelize } from 'sequelize';
import type { Config } from '../config';
import { exec, select, deleteInBatches } from './db/sql';
import { purgeInbox } from './consumer';
import type { Logger } from './logger';
import { purgePublishedEvents } from './outbox';
import type { OpenStore } from './stores';

/** Which of the given flows (workflow ids) may still run: those are kept. */
export type RunningFlows = (flowIds: string[]) => Promise<Set<string>>;

/** Asks Temporal, flow by flow (a few at a time): running, or not known to be closed, counts as running. */
/**
 * `runsOf` maps a flow id to the workflows that may run it (a batch run holds many flows, and a batched flow whose
 * batch closed without it runs as a workflow of its own; default: the flow's own): it runs while any of them does.
 */
export function temporalRunningFlows(client: Client, runsOf: (flowId: string) => string[] = (id) => [id], concurrency = 8): RunningFlows {
  return async (flowIds) => {
    const running = new Set<string>();
    const queue = [...flowIds];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          for (const workflowId of runsOf(id)) {
            try {
              const d = await client.workflow.getHandle(workflowId).describe();
              if (d.status.name === 'RUNNING') running.add(id);
            } catch (err) {
              if (!(err instanceof WorkflowNotFoundError)) running.add(id); // unsure: keep its rows
            }
            if (running.has(id)) break;
          }
        }
      }),
    );
    return running;
  };
}

export async function purgeExpiredBarriers(db: Sequelize, retention: Config['retention'], running: RunningFlows, now = new Date(), batch = 200) {
  const cutoff = new Date(now.getTime() - retention.barrierDays * 86_400_000);
  let barriers = 0;
  let kept = 0;
  for (let after = ''; ; ) {
    const rows = await select<{ flow_id: string }>(
      db,
      'SELECT DISTINCT flow_id FROM barriers WHERE created_at < ? AND flow_id > ? ORDER BY flow_id LIMIT ?',
      [cutoff, after, batch],
    );
    if (!rows.length) return { barriers, keptForRunningFlows: kept };
    const ids = rows.map((r) => r.flow_id);
    const alive = await running(ids);
    const closed = ids.filter((id) => !alive.has(id));
    kept += ids.length - closed.length;
    if (closed.length) barriers += await exec(db, 'DELETE FROM barriers WHERE flow_id IN (?) AND created_at < ?', [closed, cutoff]);
    after = ids[ids.length - 1];
  }
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

/** Published outbox rows older than OUTBOX_RETENTION_HOURS, and (stores with consumers) inbox rows older than INBOX_RETENTION_DAYS. */
export async function purgeEventRows(db: Sequelize, events: EventRetention, now = new Date()) {
  const outbox = await purgePublishedEvents(db, new Date(now.getTime() - events.outboxRetentionHours * 3600_000));
  const inbox = events.inbox ? await purgeInbox(db, new Date(now.getTime() - events.inboxRetentionDays * 86_400_000)) : 0;
  return { publishedEvents: outbox, inboxRows: inbox };
}

export type ApiRetention = Pick<Config['events'], 'inboxRetentionDays' | 'deliveryRetentionDays' | 'deadLetterRetentionDays'>;

/**
 * The API store's purge: expired idempotency keys; inbox rows older than INBOX_RETENTION_DAYS (an event redelivered
 * later would be fanned out again); deliveries that ended (delivered or failed) more than WEBHOOK_DELIVERY_RETENTION_DAYS
 * after their event — a pending one stays whatever its age, its retries end by WEBHOOK_RETRY_FOR_MS; dead letters older
 * than DEAD_LETTER_RETENTION_DAYS, replayed or not (the sagaflow_dead_letters gauge alerts long before).
 */
export async function purgeApiStore(db: Sequelize, events: ApiRetention, now = new Date()) {
  const ago = (days: number) => new Date(now.getTime() - days * 86_400_000);
  return {
    ...(await purgeExpiredIdempotencyKeys(db, now)),
    inboxRows: await purgeInbox(db, ago(events.inboxRetentionDays)),
    webhookDeliveries: await deleteInBatches(db, 'webhook_deliveries', "status IN ('delivered', 'failed') AND created_at < ?", [ago(events.deliveryRetentionDays)]),
    deadLetters: await deleteInBatches(db, 'dead_letters', 'dead_at < ?', [ago(events.deadLetterRetentionDays)]),
  };
}

export type EventRetention = Pick<Config['events'], 'outboxRetentionHours' | 'inboxRetentionDays'> & { inbox: boolean };

export function startRetentionJob(store: OpenStore, retention: Config['retention'], running: RunningFlows, log: Logger, events?: EventRetention) {
  return every(
    retention.intervalMs,
    async () => ({ ...(await purgeExpiredBarriers(store.db, retention, running)), ...(events ? await purgeEventRows(store.db, events) : {}) }),
    log,
    store.unit,
  );
}
