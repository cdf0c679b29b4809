// `npm run migrate [-- up|down|seed]`: applies (or reverts the last) migration, or seeds demo data.
import { loadConfig } from '../config';
import { createMigrator } from './migrate';
import { seedDemoData } from './seed';
import { createSequelize } from './sequelize';

async function main() {
  const command = process.argv[2] ?? 'up';
  const db = createSequelize(loadConfig().db);
  try {
    if (command === 'up') {
      const applied = await createMigrator(db).up();
      console.error(`migrations applied: ${applied.map((m) => m.name).join(', ') || 'none (up to date)'}`);
    } else if (command === 'down') {
      const reverted = await createMigrator(db).down();
      console.error(`migrations reverted: ${reverted.map((m) => m.name).join(', ') || 'none'}`);
    } else if (command === 'seed') {
      await createMigrator(db).up();
      console.error(`demo data: ${await seedDemoData(db)}`);
    } else {
      throw new Error(`unknown command ${command} (up | down | seed)`);
    }
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  console.error(`migration failed: ${err?.message ?? err}`);
  process.exit(1);
});
