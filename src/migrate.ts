// Migrations and demo data for every store: each domain's database (each ledger shard) and the API's own, each with
// its own umzug history. `npm run migrate [-- up|down|seed] [unit…]` (all units by default); also used by `npm run
// dev` and the test setup. Creates missing databases first (the app user needs CREATE on them).
import { loadConfig, type Config } from './config';
import { createMigrator, ensureDatabase } from './platform/db/migrate';
import { describeUrl } from './platform/db/sequelize';
import { openStores } from './platform/stores';
import { allStores, migrationsOf, seedOf } from './stores';

export { allStores };

export type MigrateCommand = 'up' | 'down' | 'seed';

/** Runs `command` on each store, all stores at once; returns one line per store. */
export async function migrateStores(config: Config, command: MigrateCommand = 'up', refs = allStores(config)): Promise<string[]> {
  if (command !== 'down') await Promise.all(refs.map((r) => ensureDatabase(r.url)));
  const stores = openStores(refs, { ...config.db.pool, max: 2 });
  try {
    return await Promise.all(
      stores.list.map(async (store) => {
        const migrator = createMigrator({ sequelize: store.db, store }, migrationsOf(store));
        if (command === 'down') return `${store.unit}: reverted ${(await migrator.down()).map((m) => m.name).join(', ') || 'none'}`;
        const applied = (await migrator.up()).map((m) => m.name);
        let line = `${store.unit} (${describeUrl(store.url)}): ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`;
        const seed = seedOf(store);
        if (command === 'seed' && seed) line += `; demo data: ${(await seed(store)) || 'already present'}`;
        return line;
      }),
    );
  } finally {
    await stores.close();
  }
}

async function main() {
  const [command = 'up', ...units] = process.argv.slice(2);
  if (!['up', 'down', 'seed'].includes(command)) throw new Error(`unknown command ${command} (up | down | seed)`);
  const config = loadConfig();
  const refs = allStores(config).filter((s) => units.length === 0 || units.includes(s.unit) || units.includes(s.domain));
  for (const line of await migrateStores(config, command as MigrateCommand, refs)) console.error(line);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`migration failed: ${err?.message ?? err}`);
    process.exit(1);
  });
}
