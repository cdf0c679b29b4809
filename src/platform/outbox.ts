// The transactional outbox. A domain records an event in its own `outbox` table inside the local transaction of the
// change it announces (inside the barrier's transaction: a retried step that the barrier calls a duplicate writes no
// second event). The relay then publishes unpublished rows to the broker and marks each published only after the
// broker confirmed it, so a crash anywhere loses nothing (at worst a row is published again; its message id is the
// event id and consumers keep an inbox of ids).
//
// One aggregate's events go out in the order their transactions committed. The `seq` of a row is allocated when it is
// inserted, not when it commits, so two transactions recording events of one aggregate could commit in the other
// order than their seqs (and the later seq be published first, or second after the earlier one was already visible):
// recordEvent therefore first takes the aggregate's row in `outbox_heads`, held until its transaction ends. A second
// transaction with an event of the same aggregate waits there, and allocates its seq only after the first committed
// (or rolled back): per aggregate, seq order is commit order, and the committed rows are always a prefix of them.
//
// Any number of relays may run over one outbox: each claims a batch with `FOR UPDATE SKIP LOCKED`, and keeps the
// order of each aggregate's events — it publishes an aggregate's rows one after the other, and leaves a row whose
// aggregate has an earlier unpublished row held by another relay. A relay killed mid-batch rolls its claim back.
import { Transaction, type Sequelize } from 'sequelize';
import { retryLockConflicts } from './barrier';
import { createTables, dropTables, type Table } from './db/ddl';
import type { Migration } from './db/migrate';
import { exec, select, deleteInBatches } from './db/sql';
import type { BrokerNames } from './broker';
import { within } from './timeout';
import type { EventEnvelope } from './events';
import type { Logger } from './logger';
import { startLoop, type Loop } from './loop';
import type { Publisher } from 'rabbitmq-client';

export const outboxTable = `CREATE TABLE outbox (
  seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  type VARCHAR(64) NOT NULL,
  version INT NOT NULL,
  aggregate_id VARCHAR(128) NOT NULL,
  payload MEDIUMTEXT NOT NULL,
  occurred_at DATETIME(3) NOT NULL,
  published_at DATETIME(3) NULL,
  UNIQUE KEY outbox_event (event_id),
  KEY outbox_pending (published_at, seq),
  KEY outbox_aggregate (aggregate_id, seq)
)`;

/** One row per aggregate with recent events: the lock that orders its events' transactions (see above). */
export const outboxHeadsTable = `CREATE TABLE outbox_heads (
  aggregate_id VARCHAR(128) NOT NULL PRIMARY KEY,
  events BIGINT NOT NULL,
  touched_at DATETIME(3) NOT NULL,
  KEY outbox_heads_age (touched_at)
)`;

/** Migration 0004-outbox-heads of every service with an outbox (each re-exports these from its migrations folder). */
export const outboxHeadsTables: Table[] = [['outbox_heads', outboxHeadsTable]];
export const upOutboxHeads: Migration = ({ context: { sequelize } }) => createTables(sequelize, outboxHeadsTables);
export const downOutboxHeads: Migration = ({ context: { sequelize } }) => dropTables(sequelize, outboxHeadsTables);

/** Writes `event` into the outbox in transaction `t` (the business write's own), after its aggregate's head row. */
export async function recordEvent(db: Sequelize, t: Transaction, event: EventEnvelope): Promise<void> {
  // A primary-key upsert: an index-record lock on the aggregate's row only (no gap), held until `t` ends.
  await exec(
    db,
    'INSERT INTO outbox_heads (aggregate_id, events, touched_at) VALUES (?, 1, NOW(3)) ON DUPLICATE KEY UPDATE events = events + 1, touched_at = NOW(3)',
    [event.aggregateId],
    t,
  );
  await exec(
    db,
    'INSERT INTO outbox (event_id, type, version, aggregate_id, payload, occurred_at) VALUES (?, ?, ?, ?, ?, ?)',
    [event.id, event.type, event.version, event.aggregateId, JSON.stringify(event), new Date(event.occurredAt)],
    t,
  );
}

interface Row {
  seq: number;
  event_id: string;
  type: string;
  aggregate_id: string;
  payload: string;
}

export interface RelayOptions {
  batchSize: number;
  publishTimeoutMs: number;
}

/**
 * One relay pass: claims up to `batchSize` unpublished rows, publishes them (persistent, confirmed; an aggregate's rows
 * in order, aggregates in parallel) and marks the confirmed ones published, all in one transaction. Returns how many
 * were published; throws (after committing what was confirmed) when a publish failed.
 */
export async function relayBatch(db: Sequelize, publisher: Publisher, names: BrokerNames, o: RelayOptions): Promise<number> {
  let failure: unknown;
  const published = await retryLockConflicts(() =>
    db.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, async (t) => {
      const rows = await select<Row>(
        db,
        'SELECT seq, event_id, type, aggregate_id, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED',
        [o.batchSize],
        t,
      );
      if (!rows.length) return 0;
      const mine = new Set(rows.map((r) => Number(r.seq)));
      const maxSeq = Math.max(...mine);
      // Rows of the same aggregates that another relay holds: a later row of such an aggregate waits for a later pass.
      // (A row not yet committed is never in front of a committed one of its aggregate: recordEvent's head row.)
      const foreign = await select<{ aggregate_id: string; seq: number }>(
        db,
        'SELECT aggregate_id, seq FROM outbox WHERE published_at IS NULL AND aggregate_id IN (?) AND seq < ?',
        [[...new Set(rows.map((r) => r.aggregate_id))], maxSeq],
        t,
      );
      const firstForeign = new Map<string, number>();
      for (const f of foreign) {
        const seq = Number(f.seq);
        if (!mine.has(seq) && seq < (firstForeign.get(f.aggregate_id) ?? Infinity)) firstForeign.set(f.aggregate_id, seq);
      }
      const byAggregate = new Map<string, Row[]>();
      for (const r of rows) {
        if (Number(r.seq) > (firstForeign.get(r.aggregate_id) ?? Infinity)) continue;
        byAggregate.set(r.aggregate_id, [...(byAggregate.get(r.aggregate_id) ?? []), r]);
      }
      const confirmed: number[] = [];
      await Promise.all(
        [...byAggregate.values()].map(async (list) => {
          for (const r of list) {
            try {
              await within(
                o.publishTimeoutMs,
                publisher.send(
                  { exchange: names.exchange, routingKey: r.type, messageId: r.event_id, durable: true, contentType: 'application/json', type: r.type },
                  Buffer.from(r.payload),
                ),
                'publish',
              );
              confirmed.push(Number(r.seq));
            } catch (err) {
              failure ??= err;
              return; // the rest of this aggregate waits: its order is kept
            }
          }
        }),
      );
      if (confirmed.length) await exec(db, 'UPDATE outbox SET published_at = NOW(3) WHERE seq IN (?)', [confirmed], t);
      return confirmed.length;
    }),
  );
  if (failure) throw failure;
  return published;
}

export type RelayHandle = Loop;

/** Runs relay passes over one store until stopped: at once while rows come, every `pollMs` when idle, backing off on errors. */
export function startRelay(db: Sequelize, publisher: Publisher, names: BrokerNames, o: RelayOptions & { pollMs: number; unit: string; log: Logger }): RelayHandle {
  return startLoop(async () => ((await relayBatch(db, publisher, names, o)) < o.batchSize ? 'idle' : 'more'), {
    pollMs: o.pollMs,
    onError: (err, n) => {
      if (n === 1 || n % 20 === 0) o.log.warn({ unit: o.unit, error: String((err as Error)?.message ?? err) }, 'outbox relay failed; retrying');
    },
  });
}

/** Unpublished rows and the age of the oldest (seconds, 0 when none): the relay's backlog, for metrics. */
export async function outboxBacklog(db: Sequelize): Promise<{ backlog: number; oldestSeconds: number }> {
  const [row] = await select<{ n: number; oldest: Date | null }>(db, 'SELECT COUNT(*) AS n, MIN(occurred_at) AS oldest FROM outbox WHERE published_at IS NULL', []);
  const oldest = row?.oldest ? new Date(row.oldest).getTime() : undefined;
  return { backlog: Number(row?.n ?? 0), oldestSeconds: oldest ? Math.max(0, (Date.now() - oldest) / 1000) : 0 };
}

/**
 * Deletes rows published before `olderThan` (the retention job), and the head rows of aggregates with no event since
 * then (the next event re-creates one; a head held by an open transaction waits for it). Unpublished rows stay.
 */
export async function purgePublishedEvents(db: Sequelize, olderThan: Date): Promise<number> {
  await deleteInBatches(db, 'outbox_heads', 'touched_at < ?', [olderThan]);
  return deleteInBatches(db, 'outbox', 'published_at IS NOT NULL AND published_at < ?', [olderThan]);
}
