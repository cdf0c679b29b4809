// The API's own store: its database URL, and its migrations — idempotency keys (principal + key → request hash + flow
// id) and the event tables of the webhooks and dead letters (webhooks/store.ts). It belongs to no service; it is
// a store like the services' so that migrations, readiness and retention treat it the same way.
import type { Config } from '../../config';
import { createTables, dropTables, type Table } from '../db/ddl';
import type { Migration, NamedMigration } from '../db/migrate';
import type { StoreRef } from '../stores';
import { eventsMigration } from '../webhooks/store';

const tables: Table[] = [
  [
    'idempotency_keys',
    `CREATE TABLE idempotency_keys (
      principal VARCHAR(64) NOT NULL,
      idem_key VARCHAR(128) NOT NULL,
      request_hash CHAR(64) NOT NULL,
      resource VARCHAR(32) NOT NULL,
      flow_id VARCHAR(64) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      PRIMARY KEY (principal, idem_key),
      KEY idempotency_expiry (expires_at)
    )`,
  ],
];

const up: Migration = ({ context: { sequelize } }) => createTables(sequelize, tables);
const down: Migration = ({ context: { sequelize } }) => dropTables(sequelize, tables);

export const apiMigrations: NamedMigration[] = [{ name: '0001-idempotency', up, down }, eventsMigration];

export function apiStore(config: Config): StoreRef {
  return { domain: 'api', unit: 'api', index: 0, count: 1, url: config.db.urls.api };
}
