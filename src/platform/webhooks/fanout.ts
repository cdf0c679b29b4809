// The webhooks consumer: every event (binding `#`) becomes one delivery row per registered webhook that wants its
// type, written in the consumer's transaction with its inbox row — so the fan-out is exactly once, and from then on a
// delivery is a durable row the dispatcher drives (it survives API, worker and broker restarts).
import type { Sequelize, Transaction } from 'sequelize';
import type { EventHandler } from '../consumer';
import { exec, select } from '../db/sql';
import type { EventEnvelope } from '../events';

export const WEBHOOKS_CONSUMER = 'webhooks';

export function webhookFanout(db: Sequelize): EventHandler {
  return async (event: EventEnvelope, t: Transaction) => {
    const hooks = await select<{ id: string; events: string }>(db, 'SELECT id, events FROM webhooks', [], t);
    const wanted = hooks.filter((h) => (JSON.parse(h.events) as string[]).includes(event.type));
    if (!wanted.length) return;
    const payload = JSON.stringify(event);
    const rows = wanted.map((h) => [h.id, event.id, event.type, payload, 'pending', 0, new Date(), new Date()]);
    await exec(
      db,
      'INSERT IGNORE INTO webhook_deliveries (webhook_id, event_id, type, payload, status, attempt, next_attempt_at, created_at) VALUES ?',
      [rows],
      t,
    );
  };
}
