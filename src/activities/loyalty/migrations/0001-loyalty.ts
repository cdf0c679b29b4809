// The loyalty domain's first schema: points entries (one per order) and the barrier table.
import { barrierTable } from '../../../platform/barrier';
import type { Migration } from '../../../platform/db/migrate';
import { createTables, dropTables, type Table } from '../../../platform/db/ddl';

export const tables: Table[] = [
  [
    'points_entries',
    `CREATE TABLE points_entries (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      customer_id VARCHAR(64) NOT NULL,
      order_id VARCHAR(64) NOT NULL,
      points BIGINT NOT NULL,
      created_at DATETIME(3) NOT NULL,
      UNIQUE KEY points_once (order_id),
      KEY points_customer (customer_id)
    )`,
  ],
  ['barriers', barrierTable],
];

export const up: Migration = ({ context: { sequelize } }) => createTables(sequelize, tables);
export const down: Migration = ({ context: { sequelize } }) => dropTables(sequelize, tables);
