// Runs the ordered, reversible migrations in src/db/migrations with umzug; applied names are kept in SequelizeMeta.
import { Umzug, SequelizeStorage, type MigrationFn } from 'umzug';
import type { Sequelize } from 'sequelize';
import * as m0001 from './migrations/0001-schema';

export type Migration = MigrationFn<Sequelize>;

const migrations = [{ name: '0001-schema', ...m0001 }];

export function createMigrator(sequelize: Sequelize) {
  return new Umzug<Sequelize>({
    migrations,
    context: sequelize,
    storage: new SequelizeStorage({ sequelize }),
    logger: undefined,
  });
}

export async function migrate(sequelize: Sequelize): Promise<string[]> {
  const applied = await createMigrator(sequelize).up();
  return applied.map((m) => m.name);
}
