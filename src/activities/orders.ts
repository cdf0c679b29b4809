// Activities of the checkout flow: create the order, TCC participants for stock (one per line) and payment, and the
// final step that awards points and confirms the order. Each is one barrier-guarded local transaction.
import type { Sequelize, Transaction } from 'sequelize';
import { exec, select } from '../db/sql';
import { BusinessErrors } from '../shared/errors';
import type { FlowReason, OrderInput, OrderStatus, PricedLine } from '../shared/flows';
import { withBarrier, type BarrierOutcome } from './barrier';
import { branch, type Branch } from './context';
import { capture, credit, freeze, unfreeze } from './money';
import { reject } from './reject';

export type OrderHeader = Omit<OrderInput, 'timeouts' | 'policy'>;
export interface CreatedOrder {
  total: number;
  currency: string;
  items: PricedLine[];
}
export type StockStep = Branch & { sku: string; quantity: number };
export type PaymentStep = Branch & { orderId: string; accountId: string; amount: number; currency: string; merchantAccountId: string };

async function loadOrder(db: Sequelize, id: string, t?: Transaction): Promise<CreatedOrder> {
  const [order] = await select<{ total: number; currency: string }>(db, 'SELECT total, currency FROM orders WHERE id = ?', [id], t);
  const items = await select<PricedLine>(db, 'SELECT sku, quantity, price FROM order_items WHERE order_id = ? ORDER BY line_no', [id], t);
  return { total: Number(order.total), currency: order.currency, items: items.map((i) => ({ ...i, price: Number(i.price) })) };
}

async function priceLines(db: Sequelize, t: Transaction, o: OrderHeader): Promise<CreatedOrder> {
  const skus = [...new Set(o.items.map((i) => i.sku))];
  const products = await select<{ sku: string; price: number; currency: string }>(
    db,
    'SELECT sku, price, currency FROM products WHERE sku IN (?)',
    [skus],
    t,
  );
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const [account] = await select<{ currency: string }>(db, 'SELECT currency FROM accounts WHERE id = ?', [o.paymentAccountId], t);
  if (!account) reject(BusinessErrors.AccountNotFound, `account ${o.paymentAccountId} does not exist`);
  const items = o.items.map((line) => {
    const p = bySku.get(line.sku);
    if (!p) reject(BusinessErrors.ProductNotFound, `product ${line.sku} does not exist`);
    if (p.currency !== account.currency) {
      reject(BusinessErrors.CurrencyMismatch, `product ${line.sku} is priced in ${p.currency}, the account holds ${account.currency}`);
    }
    return { ...line, price: Number(p.price) };
  });
  const total = items.reduce((sum, i) => sum + i.price * i.quantity, 0);
  return { total, currency: account.currency, items };
}

function stockUpdate(op: 'try' | 'confirm' | 'cancel', sql: string, missing: string) {
  return (db: Sequelize) =>
    async ({ branchId, sku, quantity }: StockStep): Promise<{ outcome: BarrierOutcome }> => {
      const r = await withBarrier(db, branch(branchId), op, async (t) => {
        const n = await exec(db, sql, [quantity, quantity, sku, quantity], t);
        if (n !== 1) {
          const [p] = await select(db, 'SELECT sku FROM products WHERE sku = ?', [sku], t);
          if (!p) reject(BusinessErrors.ProductNotFound, `product ${sku} does not exist`);
          if (missing === 'reject') reject(BusinessErrors.OutOfStock, `not enough stock of ${sku} for ${quantity}`);
          throw new Error(`product ${sku}: ${missing}`);
        }
      });
      if (r.outcome === 'hanging') reject(BusinessErrors.StepAlreadyCompensated, `stock ${branchId} arrived after its cancel`);
      return { outcome: r.outcome };
    };
}

const TRY_STOCK = `UPDATE products SET reserved = reserved + ?, updated_at = NOW(3) WHERE ? > 0 AND sku = ? AND stock - reserved >= ?`;
const CONFIRM_STOCK = `UPDATE products SET stock = stock - ?, reserved = reserved - ?, updated_at = NOW(3) WHERE sku = ? AND reserved >= ?`;
const CANCEL_STOCK = `UPDATE products SET reserved = reserved - ?, updated_at = NOW(3) WHERE ? > 0 AND sku = ? AND reserved >= ?`;

export function createOrderActivities({ db }: { db: Sequelize }) {
  return {
    async createOrder({ branchId, order: o }: Branch & { order: OrderHeader }): Promise<CreatedOrder> {
      const r = await withBarrier(db, branch(branchId), 'action', async (t) => {
        const priced = await priceLines(db, t, o);
        await exec(
          db,
          `INSERT INTO orders (id, customer_id, payment_account_id, total, currency, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'PENDING', NOW(3), NOW(3))`,
          [o.id, o.customerId, o.paymentAccountId, priced.total, priced.currency],
          t,
        );
        const rows = priced.items.map((i, n) => [o.id, n + 1, i.sku, i.quantity, i.price]);
        await exec(db, 'INSERT INTO order_items (order_id, line_no, sku, quantity, price) VALUES ?', [rows], t);
        return priced;
      });
      // A retry after a lost response returns what the first attempt stored.
      return r.outcome === 'applied' ? r.value : loadOrder(db, o.id);
    },

    tryReserveStock: stockUpdate('try', TRY_STOCK, 'reject')(db),
    confirmStock: stockUpdate('confirm', CONFIRM_STOCK, 'reserved units to commit are missing')(db),
    cancelStock: stockUpdate('cancel', CANCEL_STOCK, 'reserved units to release are missing')(db),

    async tryPayment(p: PaymentStep): Promise<{ outcome: BarrierOutcome }> {
      const ref = branch(p.branchId);
      const r = await withBarrier(db, ref, 'try', async (t) => {
        await freeze(db, t, { accountId: p.accountId, amount: p.amount, currency: p.currency, flowId: ref.flowId, step: 'payment-try', kind: 'freeze' });
        await exec(
          db,
          `INSERT INTO payments (order_id, account_id, amount, currency, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'FROZEN', NOW(3), NOW(3))`,
          [p.orderId, p.accountId, p.amount, p.currency],
          t,
        );
      });
      if (r.outcome === 'hanging') reject(BusinessErrors.StepAlreadyCompensated, 'payment try arrived after its cancel');
      return { outcome: r.outcome };
    },

    async confirmPayment(p: PaymentStep): Promise<{ outcome: BarrierOutcome }> {
      const ref = branch(p.branchId);
      const merchant = `${p.merchantAccountId}-${p.currency}`;
      const r = await withBarrier(db, ref, 'confirm', async (t) => {
        await capture(db, t, { accountId: p.accountId, amount: p.amount, currency: p.currency });
        await exec(
          db,
          `INSERT IGNORE INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES (?, 'merchant', ?, 0, 0, NOW(3), NOW(3))`,
          [merchant, p.currency],
          t,
        );
        await credit(db, t, { accountId: merchant, amount: p.amount, currency: p.currency, flowId: ref.flowId, step: 'payment-confirm', kind: 'sale' });
        await exec(db, `UPDATE payments SET state = 'CONFIRMED', updated_at = NOW(3) WHERE order_id = ?`, [p.orderId], t);
      });
      return { outcome: r.outcome };
    },

    async cancelPayment(p: PaymentStep): Promise<{ outcome: BarrierOutcome }> {
      const ref = branch(p.branchId);
      const r = await withBarrier(db, ref, 'cancel', async (t) => {
        await unfreeze(db, t, { accountId: p.accountId, amount: p.amount, currency: p.currency, flowId: ref.flowId, step: 'payment-cancel', kind: 'unfreeze' });
        await exec(db, `UPDATE payments SET state = 'CANCELLED', updated_at = NOW(3) WHERE order_id = ?`, [p.orderId], t);
      });
      return { outcome: r.outcome };
    },

    /** The last step: points for the customer and the order CONFIRMED, in one transaction. */
    async completeOrder({ branchId, orderId, customerId, points }: Branch & { orderId: string; customerId: string; points: number }) {
      const r = await withBarrier(db, branch(branchId), 'action', async (t) => {
        if (points > 0) {
          await exec(db, 'INSERT INTO points_entries (customer_id, order_id, points, created_at) VALUES (?, ?, ?, NOW(3))', [customerId, orderId, points], t);
        }
        await exec(db, `UPDATE orders SET status = 'CONFIRMED', updated_at = NOW(3) WHERE id = ?`, [orderId], t);
      });
      return { outcome: r.outcome };
    },

    /**
     * Records a non-final or failed status (AWAITING_APPROVAL, CANCELLED, FAILED); never overwrites CONFIRMED. The
     * non-final AWAITING_APPROVAL only moves a PENDING order: an attempt of it that stalled (a paused worker, or one
     * the flow cancelled and left behind) can land after the order was CANCELLED and must not bring it back.
     */
    async setOrderStatus({ orderId, status, reason }: { orderId: string; status: OrderStatus; reason?: FlowReason }) {
      await exec(
        db,
        `UPDATE orders SET status = ?, reason_code = ?, reason = ?, updated_at = NOW(3)
          WHERE id = ? AND status <> 'CONFIRMED' AND (status = 'PENDING' OR ? IN ('CANCELLED', 'FAILED'))`,
        [status, reason?.code ?? null, reason?.message.slice(0, 512) ?? null, orderId, status],
      );
    },
  };
}
