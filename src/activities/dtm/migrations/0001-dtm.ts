// The dtm service's schema: the record of every global transaction (the answer to `query` and `all` past Temporal's
// retention), and the barrier and outbox tables every service database has (retention and the relay expect them).
import { barrierTable } from '../../../platform/barrier';
import type { Migration } from '../../../platform/db/migrate';
import { createTables, dropTables, type Table } from '../../../platform/db/ddl';
import { outboxTable } from '../../../platform/outbox';

export const tables: Table[] = [
  [
    'dtm_trans',
    `CREATE TABLE dtm_trans (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      gid VARCHAR(128) NOT NULL,
      trans_type VARCHAR(16) NOT NULL,
      status VARCHAR(16) NOT NULL,
      protocol VARCHAR(16) NOT NULL,
      rollback_reason VARCHAR(1024) NOT NULL,
      query_prepared VARCHAR(1024) NOT NULL,
      custom_data TEXT NOT NULL,
      steps MEDIUMTEXT NOT NULL,
      payloads MEDIUMTEXT NOT NULL,
      options TEXT NOT NULL,
      branches MEDIUMTEXT NOT NULL,
      create_time DATETIME(3) NOT NULL,
      update_time DATETIME(3) NOT NULL,
      finish_time DATETIME(3) NULL,
      rollback_time DATETIME(3) NULL,
      UNIQUE KEY dtm_trans_gid (gid),
      KEY dtm_trans_status (status, id)
    )`,
  ],
  ['barriers', barrierTable],
  ['outbox', outboxTable],
];

export const up: Migration = ({ context: { sequelize } }) => createTables(sequelize, tables);
export const down: Migration = ({ context: { sequelize } }) => dropTables(sequelize, tables);
