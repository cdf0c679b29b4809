// The whole first schema. Money is BIGINT minor units; every table is InnoDB utf8mb4; the SQL is portable between
// MySQL 8 and MariaDB 10.11 (CHECK constraints are enforced by both).
import type { Migration } from '../migrate';

const tables: Array<[name: string, ddl: string]> = [
  [
    'accounts',
    `CREATE TABLE accounts (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      owner VARCHAR(128) NOT NULL,
      currency CHAR(3) NOT NULL,
      balance BIGINT NOT NULL DEFAULT 0,
      frozen BIGINT NOT NULL DEFAULT 0,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      KEY accounts_owner (owner),
      CONSTRAINT accounts_balance_nonneg CHECK (balance >= 0),
      CONSTRAINT accounts_frozen_nonneg CHECK (frozen >= 0)
    )`,
  ],
  [
    'ledger_entries',
    `CREATE TABLE ledger_entries (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      account_id VARCHAR(64) NOT NULL,
      flow_id VARCHAR(128) NOT NULL,
      step VARCHAR(64) NOT NULL,
      amount BIGINT NOT NULL,
      kind VARCHAR(16) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      UNIQUE KEY ledger_once (flow_id, step, account_id),
      KEY ledger_account_page (account_id, id)
    )`,
  ],
  [
    'transfers',
    `CREATE TABLE transfers (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      from_account_id VARCHAR(64) NOT NULL,
      to_account_id VARCHAR(64) NOT NULL,
      amount BIGINT NOT NULL,
      currency CHAR(3) NOT NULL,
      memo VARCHAR(256) NULL,
      status VARCHAR(16) NOT NULL,
      reason_code VARCHAR(64) NULL,
      reason VARCHAR(512) NULL,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      KEY transfers_from (from_account_id, created_at),
      KEY transfers_to (to_account_id, created_at),
      KEY transfers_status (status, created_at)
    )`,
  ],
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
  [
    'orders',
    `CREATE TABLE orders (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      customer_id VARCHAR(64) NOT NULL,
      payment_account_id VARCHAR(64) NOT NULL,
      total BIGINT NOT NULL,
      currency CHAR(3) NOT NULL,
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
      price BIGINT NOT NULL,
      UNIQUE KEY order_items_line (order_id, line_no),
      KEY order_items_sku (sku)
    )`,
  ],
  [
    'payments',
    `CREATE TABLE payments (
      order_id VARCHAR(64) NOT NULL PRIMARY KEY,
      account_id VARCHAR(64) NOT NULL,
      amount BIGINT NOT NULL,
      currency CHAR(3) NOT NULL,
      state VARCHAR(16) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      KEY payments_account (account_id)
    )`,
  ],
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
  [
    'barriers',
    `CREATE TABLE barriers (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      flow_id VARCHAR(128) NOT NULL,
      branch_id VARCHAR(64) NOT NULL,
      op VARCHAR(16) NOT NULL,
      reason VARCHAR(16) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      UNIQUE KEY barriers_once (flow_id, branch_id, op),
      KEY barriers_age (created_at)
    )`,
  ],
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

const suffix = ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

export const up: Migration = async ({ context: sequelize }) => {
  for (const [, ddl] of tables) await sequelize.query(ddl + suffix);
  const now = new Date();
  for (const currency of ['USD', 'EUR']) {
    await sequelize.query(
      `INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES (?, 'merchant', ?, 0, 0, ?, ?)`,
      { replacements: [`merchant-${currency}`, currency, now, now] },
    );
  }
};

export const down: Migration = async ({ context: sequelize }) => {
  for (const [name] of [...tables].reverse()) await sequelize.query(`DROP TABLE IF EXISTS ${name}`);
};
