// Table lists for migrations: each domain's migration declares its tables once (name + DDL); the same list creates
// them, drops them in reverse, and tells the isolation test which tables the domain owns.
import type { Sequelize } from 'sequelize';

export type Table = [name: string, ddl: string];

const suffix = ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

export async function createTables(sequelize: Sequelize, tables: Table[]): Promise<void> {
  for (const [, ddl] of tables) await sequelize.query(ddl + suffix);
}

export async function dropTables(sequelize: Sequelize, tables: Table[]): Promise<void> {
  for (const [name] of [...tables].reverse()) await sequelize.query(`DROP TABLE IF EXISTS ${name}`);
}
