// Builds the Sequelize instance: mysql2 driver, pool from config, UTC, BIGINT money returned as JS numbers (amounts are
// bounded by 10^12, far below 2^53). SQL is never logged: statements can carry business data.
import { Sequelize } from 'sequelize';
import type { Config } from '../config';
import { initModels } from './models';

export function createSequelize(db: Config['db']): Sequelize {
  const sequelize = new Sequelize(db.url, {
    dialect: 'mysql',
    logging: false,
    timezone: '+00:00',
    benchmark: false,
    pool: { ...db.pool },
    dialectOptions: {
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
      dateStrings: false,
      connectTimeout: 5_000,
    },
    define: { underscored: true, freezeTableName: true },
    retry: { max: 0 },
  });
  initModels(sequelize);
  return sequelize;
}

export type Db = Sequelize;
