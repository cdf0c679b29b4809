// The inventory's activities: price an order's lines, and the TCC participant for stock — reserveStock (try),
// commitStock (confirm), releaseStock (cancel), one per order line, each one barrier-guarded local transaction.
import type { Sequelize } from 'sequelize';
import { branch, refuseHanging, reject } from '../../platform/activity';
import { withBarrier, type BarrierOutcome } from '../../platform/barrier';
import { exec, select } from '../../platform/db/sql';
import { InventoryErrors, type InventoryActivities, type PricedItems, type StockLine, type StockStep } from './contract';

const RESERVE = `UPDATE products SET reserved = reserved + ?, updated_at = NOW(3) WHERE ? > 0 AND sku = ? AND stock - reserved >= ?`;
const COMMIT = `UPDATE products SET stock = stock - ?, reserved = reserved - ?, updated_at = NOW(3) WHERE sku = ? AND reserved >= ?`;
const RELEASE = `UPDATE products SET reserved = reserved - ?, updated_at = NOW(3) WHERE ? > 0 AND sku = ? AND reserved >= ?`;

function stockUpdate(db: Sequelize, op: 'try' | 'confirm' | 'cancel', sql: string, missing: string) {
  return async ({ branchId, sku, quantity }: StockStep): Promise<{ outcome: BarrierOutcome }> => {
    const r = await withBarrier(db, branch(branchId), op, async (t) => {
      const n = await exec(db, sql, [quantity, quantity, sku, quantity], t);
      if (n !== 1) {
        const [p] = await select(db, 'SELECT sku FROM products WHERE sku = ?', [sku], t);
        if (!p) reject(InventoryErrors.ProductNotFound, `product ${sku} does not exist`);
        if (op === 'try') reject(InventoryErrors.OutOfStock, `not enough stock of ${sku} for ${quantity}`);
        throw new Error(`product ${sku}: ${missing}`);
      }
    });
    return refuseHanging(r.outcome, `stock ${branchId}`, 'cancel');
  };
}

export function createInventoryActivities({ db }: { db: Sequelize }): InventoryActivities {
  return {
    /** Current prices of the lines, all in one currency (read-only). */
    async priceItems({ items }: { items: StockLine[] }): Promise<PricedItems> {
      const skus = [...new Set(items.map((i) => i.sku))];
      const rows = await select<{ sku: string; price: number; currency: string }>(db, 'SELECT sku, price, currency FROM products WHERE sku IN (?)', [skus]);
      const bySku = new Map(rows.map((p) => [p.sku, p]));
      const priced = items.map((line) => {
        const p = bySku.get(line.sku);
        if (!p) reject(InventoryErrors.ProductNotFound, `product ${line.sku} does not exist`);
        return { ...line, price: Number(p.price) };
      });
      const currencies = new Set(rows.map((r) => r.currency));
      if (currencies.size > 1) reject(InventoryErrors.MixedCurrencies, `the lines are priced in ${[...currencies].sort().join(', ')}`);
      return { items: priced, currency: rows[0].currency };
    },
    reserveStock: stockUpdate(db, 'try', RESERVE, 'reject'),
    commitStock: stockUpdate(db, 'confirm', COMMIT, 'reserved units to commit are missing'),
    releaseStock: stockUpdate(db, 'cancel', RELEASE, 'reserved units to release are missing'),
  };
}
