// A little demo data for `npm run dev` (idempotent): two USD accounts and two products, one priced over the
// approval threshold so the approval path can be tried by hand.
import type { Sequelize } from 'sequelize';
import { openAccount } from '../activities/money';
import { exec } from './sql';

export async function seedDemoData(db: Sequelize): Promise<string> {
  let created = 0;
  for (const a of [
    { id: 'demo-alice', owner: 'Alice', currency: 'USD', initialBalance: 10_000_000 },
    { id: 'demo-bob', owner: 'Bob', currency: 'USD', initialBalance: 50_000 },
  ]) {
    await db.transaction(async (t) => {
      const [exists] = await db.query('SELECT id FROM accounts WHERE id = ? FOR UPDATE', { replacements: [a.id], transaction: t });
      if ((exists as unknown[]).length) return;
      await openAccount(db, t, a);
      created++;
    });
  }
  for (const p of [
    ['demo-widget', 'Widget', 1_999, 1_000],
    ['demo-gadget', 'Gadget (needs approval)', 1_250_000, 10],
  ] as const) {
    created += await exec(
      db,
      `INSERT IGNORE INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at) VALUES (?, ?, ?, 'USD', ?, 0, NOW(3), NOW(3))`,
      [...p],
    );
  }
  return created ? `${created} rows created` : 'already present';
}
