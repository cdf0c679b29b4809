// The orders domain's read side, for the checkout route: one order with its lines.
import type { Sequelize } from 'sequelize';
import { select } from '../../platform/db/sql';

export interface OrderRecord {
  id: string;
  customerId: string;
  paymentAccountId: string;
  total: number | null;
  currency: string | null;
  status: string;
  reasonCode: string | null;
  reason: string | null;
  createdAt: Date;
  items: Array<{ sku: string; quantity: number; price: number | null }>;
}

export async function findOrder(db: Sequelize, id: string): Promise<OrderRecord | undefined> {
  const [o] = await select<Record<string, any>>(db, 'SELECT * FROM orders WHERE id = ?', [id]);
  if (!o) return undefined;
  const items = await select<{ sku: string; quantity: number; price: number | null }>(
    db,
    'SELECT sku, quantity, price FROM order_items WHERE order_id = ? ORDER BY line_no',
    [id],
  );
  return {
    id: o.id,
    customerId: o.customer_id,
    paymentAccountId: o.payment_account_id,
    total: o.total == null ? null : Number(o.total),
    currency: o.currency,
    status: o.status,
    reasonCode: o.reason_code,
    reason: o.reason,
    createdAt: o.created_at,
    items: items.map((i) => ({ sku: i.sku, quantity: Number(i.quantity), price: i.price == null ? null : Number(i.price) })),
  };
}
