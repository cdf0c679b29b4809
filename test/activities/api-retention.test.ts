// The API store's purge (purgeApiStore in src/platform/retention.ts, run by the API process every
// RETENTION_JOB_INTERVAL_MS) against the real API database: the webhooks consumer's inbox, finished webhook deliveries
// and dead letters older than their retention go; younger rows, and pending deliveries of any age, stay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { allStores } from '../../src/migrate';
import { select } from '../../src/platform/db/sql';
import { purgeApiStore } from '../../src/platform/retention';
import { openStores, type Stores } from '../../src/platform/stores';
import { uid } from '../helpers/env';

const day = 86_400_000;

describe('API store retention', () => {
  let stores: Stores;
  let config: Config;
  beforeAll(() => {
    config = loadConfig({ ...process.env, INBOX_RETENTION_DAYS: '7', WEBHOOK_DELIVERY_RETENTION_DAYS: '7', DEAD_LETTER_RETENTION_DAYS: '30' });
    stores = openStores(allStores(config), config.db.pool);
  });
  afterAll(() => stores?.close());
  const api = () => stores.db('api');
  const ago = (now: Date, ms: number) => new Date(now.getTime() - ms);

  it('when inbox rows, webhook deliveries and dead letters outlive their retention, then the purge removes them and keeps the rest', async () => {
    const now = new Date();
    const tag = uid('ret-');
    const consumer = `webhooks-${tag}`;
    for (const [event, age] of [['old', 8 * day], ['young', 6 * day]] as const) {
      await api().query('INSERT INTO inbox (consumer, event_id, received_at) VALUES (?, ?, ?)', { replacements: [consumer, `${tag}-${event}`, ago(now, age)] });
    }
    const webhookId = uid('wh-').padEnd(36, '0');
    const deliveries: Array<[event: string, status: string, ageMs: number]> = [
      ['delivered-old', 'delivered', 8 * day],
      ['failed-old', 'failed', 8 * day],
      ['pending-old', 'pending', 8 * day],
      ['delivered-young', 'delivered', 6 * day],
    ];
    for (const [event, status, age] of deliveries) {
      await api().query(
        `INSERT INTO webhook_deliveries (webhook_id, event_id, type, payload, status, attempt, next_attempt_at, created_at) VALUES (?, ?, 't', '{}', ?, 1, ?, ?)`,
        { replacements: [webhookId, `${tag}-${event}`, status, status === 'pending' ? now : null, ago(now, age)] },
      );
    }
    for (const [dead, age, replayed] of [['old', 31 * day, false], ['old-replayed', 31 * day, true], ['young', 29 * day, false]] as const) {
      await api().query(
        `INSERT INTO dead_letters (dead_id, consumer, attempts, payload, dead_at, replayed_at) VALUES (?, ?, 5, '{}', ?, ?)`,
        { replacements: [`${tag}-${dead}`.padEnd(36, '0').slice(0, 36), consumer, ago(now, age), replayed ? now : null] },
      );
    }

    const purged = await purgeApiStore(api(), config.events, now);
    expect(purged).toMatchObject({ inboxRows: expect.any(Number), webhookDeliveries: expect.any(Number), deadLetters: expect.any(Number) });

    const inbox = await select<{ event_id: string }>(api(), 'SELECT event_id FROM inbox WHERE consumer = ?', [consumer]);
    expect(inbox.map((r) => r.event_id)).toEqual([`${tag}-young`]);
    const kept = await select<{ event_id: string }>(api(), 'SELECT event_id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY event_id', [webhookId]);
    expect(kept.map((r) => r.event_id)).toEqual([`${tag}-delivered-young`, `${tag}-pending-old`]);
    const dead = await select<{ dead_id: string }>(api(), 'SELECT dead_id FROM dead_letters WHERE consumer = ?', [consumer]);
    expect(dead.map((r) => r.dead_id.replace(/0+$/, ''))).toEqual([`${tag}-young`]);
  });
});
