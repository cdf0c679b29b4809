// Builds one Sequelize instance per database: mysql2 driver, pool from config, UTC, BIGINT money returned as JS
// numbers (amounts are bounded by 10^12 at the edge, far below 2^53). SQL is never logged: statements carry business
// data. Models are not used: every domain speaks plain SQL to its own tables (see sql.ts).
// Every pooled connection runs at READ COMMITTED, set once when it is opened (afterConnect below): a transaction then
// costs START TRANSACTION and COMMIT, not a SET SESSION round trip in front of each (the barrier's reasoning assumes
// READ COMMITTED). The XA branches' dedicated connections (xa.ts) set the same level with SET_ISOLATION.
import { Sequelize } from 'sequelize';
import type { Config } from '../../config';

export type Pool = Config['db']['pool'];

export function createSequelize(url: string, pool: Pool): Sequelize {
  return new Sequelize(url, {
    dialect: 'mysql',
    logging: false,
    timezone: '+00:00',
    benchmark: false,
    pool: { ...pool },
    dialectOptions: {
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
      dateStrings: false,
      connectTimeout: 5_000,
    },
    define: { underscored: true, freezeTableName: true },
    retry: { max: 0 },
    hooks: {
      afterConnect: async (connection: unknown) => {
        await (connection as { promise(): { query(sql: string): Promise<unknown> } }).promise().query(SET_ISOLATION);
      },
    },
  });
}

export const SET_ISOLATION = 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED';

export type Db = Sequelize;

/** Host, port and database of a URL, without credentials: safe for logs and banners. */
export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 3306}${u.pathname}`;
}
