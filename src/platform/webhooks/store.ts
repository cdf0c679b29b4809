// The API's event tables: webhook registrations, their deliveries (one row per webhook and event: the durable state of
// its retries), the webhooks consumer's inbox and the dead letters operators list and replay. All in the API's own
// database; migration 0003-events of the API store.
import type { Sequelize } from 'sequelize';
import { inboxTable } from '../consumer';
import { createTables, dropTables, type Table } from '../db/ddl';
import type { Migration, NamedMigration } from '../db/migrate';
import { exec, select } from '../db/sql';
import { isSealedText, sealText, type Keyring } from '../codec/keyring';

export const tables: Table[] = [
  [
    'webhooks',
    `CREATE TABLE webhooks (
      id CHAR(36) NOT NULL PRIMARY KEY,
      principal VARCHAR(64) NOT NULL,
      url VARCHAR(2048) NOT NULL,
      events TEXT NOT NULL,
      description VARCHAR(512) NULL,
      secret VARCHAR(128) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      KEY webhooks_principal (principal)
    )`,
  ],
  [
    'webhook_deliveries',
    `CREATE TABLE webhook_deliveries (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      webhook_id CHAR(36) NOT NULL,
      event_id VARCHAR(64) NOT NULL,
      type VARCHAR(64) NOT NULL,
      payload MEDIUMTEXT NOT NULL,
      status VARCHAR(16) NOT NULL,
      attempt INT NOT NULL DEFAULT 0,
      response_status INT NULL,
      last_error VARCHAR(255) NULL,
      next_attempt_at DATETIME(3) NULL,
      delivered_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL,
      UNIQUE KEY deliveries_once (webhook_id, event_id),
      KEY deliveries_due (status, next_attempt_at),
      KEY deliveries_page (webhook_id, id)
    )`,
  ],
  [
    'dead_letters',
    `CREATE TABLE dead_letters (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      dead_id CHAR(36) NOT NULL,
      consumer VARCHAR(64) NOT NULL,
      event_id VARCHAR(64) NULL,
      type VARCHAR(64) NULL,
      attempts INT NOT NULL,
      error VARCHAR(512) NULL,
      payload MEDIUMTEXT NOT NULL,
      dead_at DATETIME(3) NOT NULL,
      replayed_at DATETIME(3) NULL,
      UNIQUE KEY dead_once (dead_id),
      KEY dead_age (dead_at)
    )`,
  ],
  ['inbox', inboxTable],
];

const up: Migration = ({ context: { sequelize } }) => createTables(sequelize, tables);
const down: Migration = ({ context: { sequelize } }) => dropTables(sequelize, tables);
export const eventsMigration: NamedMigration = { name: '0003-events', up, down };

/** Room for a sealed secret (`enc:v1:<key id>:<base64 of iv, ciphertext and tag>`); sealSecrets() seals the rows. */
export const secretColumnMigration: NamedMigration = {
  name: '0004-webhook-secret-sealed',
  up: async ({ context: { sequelize } }) => void (await sequelize.query('ALTER TABLE webhooks MODIFY secret VARCHAR(512) NOT NULL')),
  down: async ({ context: { sequelize } }) => void (await sequelize.query('ALTER TABLE webhooks MODIFY secret VARCHAR(128) NOT NULL')),
};

/**
 * Seals every webhook secret still stored in clear (rows written before encryption) under the keyring's current key;
 * the API runs it at start. Each row is updated only if it still holds the value read, so two APIs starting at once
 * seal it once. Returns how many rows it sealed.
 */
export async function sealSecrets(db: Sequelize, keyring: Keyring): Promise<number> {
  if (keyring.empty) return 0;
  const rows = await select<{ id: string; secret: string }>(db, "SELECT id, secret FROM webhooks WHERE secret NOT LIKE 'enc:v1:%'", []);
  let sealed = 0;
  for (const r of rows.filter((row) => !isSealedText(row.secret))) {
    sealed += await exec(db, 'UPDATE webhooks SET secret = ? WHERE id = ? AND secret = ?', [sealText(keyring, r.secret), r.id, r.secret]);
  }
  return sealed;
}

export interface WebhookRow {
  id: string;
  principal: string;
  url: string;
  events: string;
  description: string | null;
  secret: string;
  created_at: Date;
}

export const webhookView = (w: WebhookRow) => ({
  id: w.id,
  url: w.url,
  events: JSON.parse(w.events) as string[],
  description: w.description ?? undefined,
  createdAt: new Date(w.created_at).toISOString(),
});

export async function insertWebhook(db: Sequelize, w: Omit<WebhookRow, 'created_at'>): Promise<void> {
  await exec(db, 'INSERT INTO webhooks (id, principal, url, events, description, secret, created_at) VALUES (?, ?, ?, ?, ?, ?, NOW(3))', [
    w.id,
    w.principal,
    w.url,
    w.events,
    w.description,
    w.secret,
  ]);
}

export async function findWebhook(db: Sequelize, id: string, principal: string): Promise<WebhookRow | undefined> {
  const [w] = await select<WebhookRow>(db, 'SELECT * FROM webhooks WHERE id = ? AND principal = ?', [id, principal]);
  return w;
}

/** Deletes a webhook and its deliveries (pending ones are not sent any more). */
export async function deleteWebhook(db: Sequelize, id: string, principal: string): Promise<boolean> {
  return db.transaction(async (t) => {
    const n = await exec(db, 'DELETE FROM webhooks WHERE id = ? AND principal = ?', [id, principal], t);
    if (n) await exec(db, 'DELETE FROM webhook_deliveries WHERE webhook_id = ?', [id], t);
    return n === 1;
  });
}

export interface DeliveryRow {
  id: number;
  webhook_id: string;
  event_id: string;
  type: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempt: number;
  response_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : undefined);

export const deliveryView = (d: DeliveryRow) => ({
  eventId: d.event_id,
  type: d.type,
  attempt: Number(d.attempt),
  status: d.status,
  responseStatus: d.response_status ?? undefined,
  error: d.last_error ?? undefined,
  nextAttemptAt: d.status === 'pending' ? iso(d.next_attempt_at) : undefined,
  deliveredAt: iso(d.delivered_at),
});

/** A page of a webhook's deliveries, newest first; `cursor` is the last id of the previous page. */
export async function deliveriesPage(db: Sequelize, webhookId: string, limit: number, cursor?: string) {
  const rows = await select<DeliveryRow>(
    db,
    `SELECT * FROM webhook_deliveries WHERE webhook_id = ? ${cursor ? 'AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
    cursor ? [webhookId, cursor, limit + 1] : [webhookId, limit + 1],
  );
  const page = rows.slice(0, limit);
  return { items: page.map(deliveryView), nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null };
}
