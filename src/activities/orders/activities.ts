// The orders domain's activities: create the order with its priced lines, move its status, confirm it. Each write is
// one local transaction in the orders database (barrier-guarded where a flow step must take effect once).
import type { Sequelize, Transaction } from 'sequelize';
import { branch, reject, type Branch } from '../../platform/activity';
import { withBarrier } from '../../platform/barrier';
import { exec, select } from '../../platform/db/sql';
import { newEvent } from '../../platform/events';
import { recordEvent } from '../../platform/outbox';
import { OrderCancelled, OrderConfirmed } from '../../events/catalog';
import { MAX_ORDER_TOTAL, OrderErrors, type CreatedOrder, type NewOrder, type OrderActivities, type OrderLineDto, type OrderStatus, type OrderStatusChange } from './contract';

async function loadOrder(db: Sequelize, id: string, t?: Transaction): Promise<CreatedOrder> {
  const [order] = await select<{ total: number; currency: string }>(db, 'SELECT total, currency FROM orders WHERE id = ?', [id], t);
  const items = await select<OrderLineDto>(db, 'SELECT sku, quantity, price FROM order_items WHERE order_id = ? ORDER BY line_no', [id], t);
  return { total: Number(order.total), currency: order.currency, items: items.map((i) => ({ ...i, price: Number(i.price) })) };
}

/** The exact total of priced lines (BigInt: 50 lines × 1000 units × 10^12 would pass 2^53 as a JS number). */
export function orderTotal(items: OrderLineDto[]): bigint {
  return items.reduce((sum, i) => sum + BigInt(i.price) * BigInt(i.quantity), 0n);
}

export function createOrderActivities({ db }: { db: Sequelize }): OrderActivities {
  return {
    async createOrder({ branchId, order: o }: Branch & { order: NewOrder }): Promise<CreatedOrder> {
      if (o.currency !== o.accountCurrency) {
        reject(OrderErrors.CurrencyMismatch, `the lines are priced in ${o.currency}, the account holds ${o.accountCurrency}`);
      }
      const total = orderTotal(o.items);
      if (total > MAX_ORDER_TOTAL) reject(OrderErrors.TotalTooLarge, `the order totals ${total} minor units, more than ${MAX_ORDER_TOTAL}`);
      const r = await withBarrier(db, branch(branchId), 'action', async (t) => {
        await exec(
          db,
          `INSERT INTO orders (id, customer_id, payment_account_id, total, currency, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'PENDING', NOW(3), NOW(3))`,
          [o.id, o.customerId, o.paymentAccountId, total.toString(), o.currency],
          t,
        );
        const rows = o.items.map((i, n) => [o.id, n + 1, i.sku, i.quantity, i.price]);
        await exec(db, 'INSERT INTO order_items (order_id, line_no, sku, quantity, price) VALUES ?', [rows], t);
        return { total: Number(total), currency: o.currency, items: o.items };
      });
      // A retry after a lost response returns what the first attempt stored.
      return r.outcome === 'applied' ? r.value : loadOrder(db, o.id);
    },

    /** The order CONFIRMED, once, and `order.confirmed` in its outbox in the same transaction. */
    async confirmOrder({ branchId, orderId }: Branch & { orderId: string }) {
      const r = await withBarrier(db, branch(branchId), 'action', async (t) => {
        await exec(db, `UPDATE orders SET status = 'CONFIRMED', updated_at = NOW(3) WHERE id = ?`, [orderId], t);
        const [o] = await select<{ customer_id: string; payment_account_id: string; total: number; currency: string }>(
          db,
          'SELECT customer_id, payment_account_id, total, currency FROM orders WHERE id = ?',
          [orderId],
          t,
        );
        if (o) {
          const data = { orderId, customerId: o.customer_id, paymentAccountId: o.payment_account_id, total: Number(o.total), currency: o.currency };
          await recordEvent(db, t, newEvent(OrderConfirmed, orderId, data));
        }
      });
      return { outcome: r.outcome };
    },

    setOrderStatus: (change) => setOrderStatus(db, change),
  };
}

/**
 * Records a non-final or failed status (AWAITING_APPROVAL, CANCELLED, FAILED); never overwrites CONFIRMED. The
 * non-final AWAITING_APPROVAL only moves a PENDING order: an attempt of it that stalled (a paused worker, or one
 * the flow cancelled and left behind) can land after the order was CANCELLED and must not bring it back.
 * A final status for an order that has no row yet (refused before it was priced: unknown account or product)
 * writes the row from `order`, unpriced, so every accepted order ends with a row in its terminal state.
 */
async function setOrderStatus(db: Sequelize, { orderId, status, reason, order }: OrderStatusChange): Promise<void> {
  const code = reason?.code ?? null;
  const message = reason?.message.slice(0, 512) ?? null;
  await db.transaction(async (t) => {
    const [row] = await select<{ status: OrderStatus; customer_id: string }>(db, 'SELECT status, customer_id FROM orders WHERE id = ? FOR UPDATE', [orderId], t);
    // `order.cancelled` once: when this call moves the order into CANCELLED (a retry finds it there already).
    const announce = (customerId: string) =>
      recordEvent(db, t, newEvent(OrderCancelled, orderId, { orderId, customerId, ...(reason ? { reason: { code: reason.code, message: reason.message } } : {}) }));
    if (row || !order || (status !== 'CANCELLED' && status !== 'FAILED')) {
      if (row && status === 'CANCELLED' && row.status !== 'CANCELLED' && row.status !== 'CONFIRMED') await announce(row.customer_id);
      await exec(
        db,
        `UPDATE orders SET status = ?, reason_code = ?, reason = ?, updated_at = NOW(3)
          WHERE id = ? AND status <> 'CONFIRMED' AND (status = 'PENDING' OR ? IN ('CANCELLED', 'FAILED'))`,
        [status, code, message, orderId, status],
        t,
      );
      return;
    }
    await exec(
      db,
      `INSERT INTO orders (id, customer_id, payment_account_id, total, currency, status, reason_code, reason, created_at, updated_at)
       VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, NOW(3), NOW(3))`,
      [orderId, order.customerId, order.paymentAccountId, status, code, message],
      t,
    );
    const rows = order.items.map((i, n) => [orderId, n + 1, i.sku, i.quantity, null]);
    await exec(db, 'INSERT INTO order_items (order_id, line_no, sku, quantity, price) VALUES ?', [rows], t);
    if (status === 'CANCELLED') await announce(order.customerId);
  });
}
