// The orders domain's first schema: orders, their lines, and the barrier table. Total, currency and prices are NULL
// only for an order refused before it was priced (it still gets its row, CANCELLED with the reason).
import { barrierTable } from '../../../platform/barrier';
import type { Migration } from '../../../platform/db/migrate';
import { createTables, dropTables, type Table } from '../../../platform/db/ddl';

export const tables: Table[] = [
  [
    'orders',
    `CREATE TABLE orders (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      customer_id VARCHAR(64) NOT NULL,
      payment_account_id VARCHAR(64) NOT NULL,
      total BIGINT NULL,
      currency CHAR(3) NULL,
      status VARCHAR(24) NOT NULL,
      reason_code VARCHAR(64) NULL,
      reason VARCHAR(512) NULL,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      KEY orders_customer (customer_id, created_at),
      KEY orders_status (status, created_at)
    )`,
  ],
  [
    'order_items',
    `CREATE TABLE order_items (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      order_id VARCHAR(64) NOT NULL,
      line_no INT NOT NULL,
      sku VARCHAR(64) NOT NULL,
      quantity INT NOT NULL,
      price BIGINT NULL,
      UNIQUE KEY order_items_line (order_id, line_no),
      KEY order_items_sku (sku)
    )`,
  ],
  ['barriers', barrierTable],
];

export const up: Migration = ({ context: { sequelize } }) => createTables(sequelize, tables);
export const down: Migration = ({ context: { sequelize } }) => dropTables(sequelize, tables);
