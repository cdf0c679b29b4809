// The domain's outbox: its events, written in the transaction of the change they announce (see platform/outbox.ts).
import type { Migration } from '../../../platform/db/migrate';
import { createTables, dropTables, type Table } from '../../../platform/db/ddl';
import { outboxTable } from '../../../platform/outbox';

export const tables: Table[] = [['outbox', outboxTable]];

export const up: Migration = ({ context: { sequelize } }) => createTables(sequelize, tables);
export const down: Migration = ({ context: { sequelize } }) => dropTables(sequelize, tables);
