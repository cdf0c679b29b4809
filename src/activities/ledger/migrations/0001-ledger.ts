// The ledger's first schema, applied to every shard: accounts, their ledger entries, transfers (on the source
// account's shard), payment holds and the shard's barrier table. Money is BIGINT minor units; SQL portable between
// MySQL 8 and MariaDB 10.11 (CHECK constraints are enforced by both).
import { barrierTable } from '../../../platform/barrier';
import type { Migration } from '../../../platform/db/migrate';
import { createTables, dropTables, type Table } from '../../../platform/db/ddl';
import { merchantAccount, shardOf } from '../contract';

export const tables: Table[] = [
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
      KEY transfers_status (status, created_at)
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
  ['barriers', barrierTable],
];

export const up: Migration = async ({ context: { sequelize, store } }) => {
  await createTables(sequelize, tables);
  // The merchant accounts of the default currencies, each on the shard its id maps to.
  for (const currency of ['USD', 'EUR']) {
    const id = merchantAccount('merchant', currency);
    if (shardOf(id, store.count) !== store.index) continue;
    await sequelize.query(
      `INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES (?, 'merchant', ?, 0, 0, NOW(3), NOW(3))`,
      { replacements: [id, currency] },
    );
  }
};

export const down: Migration = ({ context: { sequelize } }) => dropTables(sequelize, tables);
