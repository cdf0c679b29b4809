// Event tests that must see only their own rows and messages: fresh databases for every store (on the same servers,
// named `sagaflow_ev<id>_<unit>`, migrated) and a broker prefix of their own, so no other test file's relay publishes
// their outbox rows and no other consumer takes their messages.
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { loadConfig } from '../../src/config';
import { migrateStores } from '../../src/migrate';
import { exec } from '../../src/platform/db/sql';
import { newEvent, type EventDef } from '../../src/platform/events';
import { recordEvent } from '../../src/platform/outbox';
import type { Sequelize } from 'sequelize';
import { uid } from './env';

function renamed(url: string, tag: string): string {
  const u = new URL(url);
  u.pathname = `/${u.pathname.slice(1).replace(/^sagaflow_/, `sagaflow_${tag}_`)}`;
  return u.toString();
}

/** Environment overrides for fresh, migrated databases and a fresh broker prefix (and anything else given). */
export async function isolatedEvents(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const base = loadConfig();
  const tag = uid('ev').toLowerCase().slice(0, 12);
  const env = {
    LEDGER_DATABASE_URLS: base.db.urls.ledger.map((u) => renamed(u, tag)).join(','),
    INVENTORY_DATABASE_URL: renamed(base.db.urls.inventory, tag),
    ORDERS_DATABASE_URL: renamed(base.db.urls.orders, tag),
    LOYALTY_DATABASE_URL: renamed(base.db.urls.loyalty, tag),
    API_DATABASE_URL: renamed(base.db.urls.api, tag),
    DTM_DATABASE_URL: renamed(base.db.urls.dtm, tag),
    BROKER_PREFIX: `t-${tag}`,
    LOG_LEVEL: 'silent',
    ...extra,
  };
  await migrateStores(loadConfig({ ...process.env, ...env }));
  return env;
}

/** A private queue bound to every event of `prefix` that records each message id it receives (and how often). */
export async function recorder(url: string, prefix: string) {
  const rabbit = new Connection({ url, retryLow: 50, retryHigh: 500 });
  const seen = new Map<string, number>();
  const arrivals: string[] = [];
  const queue = `${prefix}.test-recorder-${randomUUID().slice(0, 8)}`;
  const exchange = `${prefix}.events`;
  const consumer = rabbit.createConsumer(
    {
      queue,
      queueOptions: { durable: true },
      concurrency: 1,
      exchanges: [{ exchange, type: 'topic', durable: true }],
      queueBindings: [{ exchange, queue, routingKey: '#' }],
    },
    async (msg) => {
      seen.set(String(msg.messageId), (seen.get(String(msg.messageId)) ?? 0) + 1);
      arrivals.push(String(msg.messageId));
    },
  );
  await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
  return {
    seen,
    /** Message ids in the order the queue delivered them. */
    arrivals,
    async close() {
      await consumer.close();
      await rabbit.queueDelete({ queue }).catch(() => undefined);
      await rabbit.close();
    },
  };
}

/** Writes `count` events into a store's outbox directly, in transactions of `perTx`, the way an activity does. */
export async function seedOutbox(db: Sequelize, def: EventDef, count: number, dataOf: (i: number) => unknown, aggregateOf: (i: number) => string, perTx = 100) {
  const ids: string[] = [];
  for (let i = 0; i < count; i += perTx) {
    await db.transaction(async (t) => {
      for (let j = i; j < Math.min(count, i + perTx); j++) {
        const e = newEvent(def, aggregateOf(j), dataOf(j) as never);
        ids.push(e.id);
        await recordEvent(db, t, e);
      }
    });
  }
  return ids;
}

export async function unpublished(db: Sequelize): Promise<number> {
  const [[row]] = (await db.query('SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL')) as [Array<{ n: number }>, unknown];
  return Number(row.n);
}

export function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export { exec };
