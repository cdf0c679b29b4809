// Dead letters: messages a consumer gave up on (consumer.ts moves them to `<queue>.dead` after its last attempt). The
// keeper, run by the API, drains every consumer's dead-letter queue into the `dead_letters` table of the API's
// database (acked after commit; the dead id in the message makes a redelivery a no-op), where operators list them
// (GET /v1/ops/dead-letters) and replay one (POST …/{id}/replay): the original message goes back to its consumer's
// queue with a fresh attempt count — confirmed by the broker before the row is marked replayed — and the consumer's
// inbox makes a replay of an event it did apply a no-op.
import { Transaction, type Sequelize } from 'sequelize';
import type { Consumer, Publisher } from 'rabbitmq-client';
import type { Broker, BrokerNames } from './broker';
import { within } from './timeout';
import { ATTEMPTS_HEADER, DEAD_ID_HEADER, ERROR_HEADER } from './consumer';
import { exec, select } from './db/sql';
import type { Logger } from './logger';

export function startDeadLetterKeeper(rabbit: Broker, names: BrokerNames, db: Sequelize, consumers: string[], log: Logger): Consumer[] {
  return consumers.map((consumer) => {
    const c = rabbit.createConsumer({ queue: names.dead(consumer), queueOptions: { durable: true }, qos: { prefetchCount: 20 }, requeue: true }, async (msg) => {
      const body = Buffer.isBuffer(msg.body) ? msg.body.toString('utf8') : typeof msg.body === 'string' ? msg.body : JSON.stringify(msg.body);
      let eventId: string | null = msg.messageId ?? null;
      try {
        eventId = (JSON.parse(body) as { id?: string }).id ?? eventId;
      } catch {
        /* not JSON: kept as it came */
      }
      const h = msg.headers ?? {};
      await exec(
        db,
        'INSERT IGNORE INTO dead_letters (dead_id, consumer, event_id, type, attempts, error, payload, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?, NOW(3))',
        [String(h[DEAD_ID_HEADER] ?? msg.messageId ?? `${consumer}:${Date.now()}`), consumer, eventId, msg.type ?? null, Number(h[ATTEMPTS_HEADER] ?? 0), String(h[ERROR_HEADER] ?? '').slice(0, 512), body],
      );
      log.warn({ consumer, eventId, type: msg.type }, 'dead letter recorded');
    });
    c.on('error', (err) => log.warn({ consumer, error: String((err as Error)?.message ?? err) }, 'dead-letter keeper error'));
    return c;
  });
}

export interface DeadLetterRow {
  id: number;
  consumer: string;
  event_id: string | null;
  type: string | null;
  attempts: number;
  error: string | null;
  payload: string;
  dead_at: Date;
  replayed_at: Date | null;
}

export const deadLetterView = (d: DeadLetterRow) => ({
  id: String(d.id),
  consumer: d.consumer,
  eventId: d.event_id,
  type: d.type,
  attempts: Number(d.attempts),
  error: d.error,
  deadAt: new Date(d.dead_at).toISOString(),
  replayedAt: d.replayed_at ? new Date(d.replayed_at).toISOString() : null,
});

export async function deadLettersPage(db: Sequelize, limit: number, cursor?: string) {
  const rows = await select<DeadLetterRow>(
    db,
    `SELECT * FROM dead_letters ${cursor ? 'WHERE id < ?' : ''} ORDER BY id DESC LIMIT ?`,
    cursor ? [cursor, limit + 1] : [limit + 1],
  );
  const page = rows.slice(0, limit);
  return { items: page.map(deadLetterView), nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null };
}

/** Dead letters not replayed yet, by consumer (the metric). */
export async function pendingDeadLetters(db: Sequelize): Promise<Array<{ consumer: string; n: number }>> {
  const rows = await select<{ consumer: string; n: number }>(db, 'SELECT consumer, COUNT(*) AS n FROM dead_letters WHERE replayed_at IS NULL GROUP BY consumer', []);
  return rows.map((r) => ({ consumer: r.consumer, n: Number(r.n) }));
}

export type ReplayResult = { outcome: 'replayed'; row: DeadLetterRow } | { outcome: 'not-found' } | { outcome: 'already-replayed'; row: DeadLetterRow };

/** Sends a dead letter back to its consumer's queue (attempts from 0), marking it replayed once the broker confirmed. */
export async function replayDeadLetter(db: Sequelize, publisher: Publisher, names: BrokerNames, id: string): Promise<ReplayResult> {
  return db.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, async (t) => {
    const [row] = await select<DeadLetterRow>(db, 'SELECT * FROM dead_letters WHERE id = ? FOR UPDATE', [id], t);
    if (!row) return { outcome: 'not-found' as const };
    if (row.replayed_at) return { outcome: 'already-replayed' as const, row };
    await within(
      10_000,
      publisher.send(
        { exchange: '', routingKey: names.queue(row.consumer), durable: true, messageId: row.event_id ?? undefined, type: row.type ?? undefined, contentType: 'application/json', headers: { [ATTEMPTS_HEADER]: 0 } },
        Buffer.from(row.payload),
      ),
      'replay publish',
    );
    await exec(db, 'UPDATE dead_letters SET replayed_at = NOW(3) WHERE id = ?', [id], t);
    const [after] = await select<DeadLetterRow>(db, 'SELECT * FROM dead_letters WHERE id = ?', [id], t);
    return { outcome: 'replayed' as const, row: after };
  });
}
