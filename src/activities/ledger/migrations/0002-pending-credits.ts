// Pending credits for TCC transfers: a transfer's try books the amount as `pending` on the destination (unspendable,
// not part of its balance) while the source holds it as `frozen`; confirm turns pending into balance, cancel drops it.
import type { Migration } from '../../../platform/db/migrate';
import type { Table } from '../../../platform/db/ddl';

/** No new tables (the isolation test reads this list). */
export const tables: Table[] = [];

export const up: Migration = async ({ context: { sequelize } }) => {
  await sequelize.query('ALTER TABLE accounts ADD COLUMN pending BIGINT NOT NULL DEFAULT 0 AFTER frozen');
  await sequelize.query('ALTER TABLE accounts ADD CONSTRAINT accounts_pending_nonneg CHECK (pending >= 0)');
};

export const down: Migration = async ({ context: { sequelize } }) => {
  await sequelize.query('ALTER TABLE accounts DROP CONSTRAINT accounts_pending_nonneg');
  await sequelize.query('ALTER TABLE accounts DROP COLUMN pending');
};
