// Loyalty's outbox (points.awarded / points.revoked) and inbox (the events it consumed, one row per event id, written
// with their effect), and points entries of two kinds: one award and at most one revocation per order.
import type { Migration } from '../../../platform/db/migrate';
import { createTables, dropTables, type Table } from '../../../platform/db/ddl';
import { inboxTable } from '../../../platform/consumer';
import { outboxTable } from '../../../platform/outbox';

export const tables: Table[] = [
  ['outbox', outboxTable],
  ['inbox', inboxTable],
];

export const up: Migration = async ({ context: { sequelize } }) => {
  await createTables(sequelize, tables);
  await sequelize.query(`ALTER TABLE points_entries ADD COLUMN kind VARCHAR(8) NOT NULL DEFAULT 'award'`);
  await sequelize.query('ALTER TABLE points_entries DROP INDEX points_once, ADD UNIQUE KEY points_once (order_id, kind)');
};
export const down: Migration = async ({ context: { sequelize } }) => {
  await sequelize.query(`DELETE FROM points_entries WHERE kind <> 'award'`);
  await sequelize.query('ALTER TABLE points_entries DROP INDEX points_once, ADD UNIQUE KEY points_once (order_id)');
  await sequelize.query('ALTER TABLE points_entries DROP COLUMN kind');
  await dropTables(sequelize, tables);
};
