// Migrations per database with umzug: every database (a domain's, or one ledger shard's) keeps its own applied list
// in its own SequelizeMeta table, so services migrate, roll back and release independently.
import mysql from 'mysql2/promise';
import type { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug, type MigrationFn } from 'umzug';

/** What a migration sees: its database and which store it is (a shard's index and the shard count). */
export interface MigrationContext {
  sequelize: Sequelize;
  store: { unit: string; index: number; count: number };
}

export type Migration = MigrationFn<MigrationContext>;
export interface NamedMigration {
  name: string;
  up: Migration;
  down?: Migration;
}

export function createMigrator(context: MigrationContext, migrations: NamedMigration[]) {
  return new Umzug<MigrationContext>({
    migrations,
    context,
    storage: new SequelizeStorage({ sequelize: context.sequelize }),
    logger: undefined,
  });
}

/** CREATE DATABASE IF NOT EXISTS for the database a URL names (the app user needs the privilege). */
export async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} is not a plain identifier`);
  u.pathname = '/';
  const conn = await mysql.createConnection({ uri: u.toString(), connectTimeout: 5_000 });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}
