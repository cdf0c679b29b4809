// The inventory's read side, for routes: products by sku.
import type { Sequelize } from 'sequelize';
import { select } from '../../platform/db/sql';

export interface ProductRow {
  sku: string;
  name: string;
  price: number;
  currency: string;
  stock: number;
  reserved: number;
}

export async function findProducts(db: Sequelize, skus: string[]): Promise<ProductRow[]> {
  if (!skus.length) return [];
  const rows = await select<ProductRow>(db, 'SELECT sku, name, price, currency, stock, reserved FROM products WHERE sku IN (?)', [skus]);
  return rows.map((p) => ({ ...p, price: Number(p.price), stock: Number(p.stock), reserved: Number(p.reserved) }));
}
