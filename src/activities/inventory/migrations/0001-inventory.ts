// The inventory's first schema: products with stock and reserved units, and the barrier table.
import { barrierTable } from '../../../platform/barrier';
import type { Migration } from '../../../platform/db/migrate';
import { createTables, dropTables, type Table } from '../../../platform/db/ddl';

export const tables: Table[] = [
  [
    'products',
    `CREATE TABLE products (
      sku VARCHAR(64) NOT NULL PRIMARY KEY,
      name VARCHAR(200) NOT NULL,
      price BIGINT NOT NULL,
      currency CHAR(3) NOT NULL,
      stock INT NOT NULL,
      reserved INT NOT NULL DEFAULT 0,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      CONSTRAINT products_stock_nonneg CHECK (stock >= 0),
      CONSTRAINT products_reserved_range CHECK (reserved >= 0 AND reserved <= stock)
    )`,
  ],
  ['barriers', barrierTable],
];

export const up: Migration = ({ context: { sequelize } }) => createTables(sequelize, tables);
export const down: Migration = ({ context: { sequelize } }) => dropTables(sequelize, tables);
