// The ledger's side of a checkout, on the payer's and the merchant's shards: describeAccount (the currency a checkout
// prices in), the payment as a TCC participant — holdPayment freezes (try), capturePayment takes the frozen money
// (confirm), releasePayment gives it back (cancel) — and creditMerchant, the sale on the merchant's own shard. Each
// write is one local transaction guarded by the barrier.
import type { Sequelize } from 'sequelize';
import { branch, refuseHanging, reject } from '../../platform/activity';
import { withBarrier } from '../../platform/barrier';
import { exec, select } from '../../platform/db/sql';
import { LedgerErrors, type LedgerActivities, type MerchantCredit, type PaymentStep, type StepOutcome } from './contract';
import { capture, credit, freeze, unfreeze } from './money';

type PaymentActivities = Pick<LedgerActivities, 'describeAccount' | 'holdPayment' | 'capturePayment' | 'releasePayment' | 'creditMerchant'>;

export function createPaymentActivities(db: Sequelize): PaymentActivities {
  return {
    /** An account's currency, or AccountNotFound: what a checkout needs to price an order. */
    async describeAccount({ accountId }: { accountId: string }): Promise<{ id: string; currency: string }> {
      const [row] = await select<{ currency: string }>(db, 'SELECT currency FROM accounts WHERE id = ?', [accountId]);
      if (!row) reject(LedgerErrors.AccountNotFound, `account ${accountId} does not exist`);
      return { id: accountId, currency: row.currency };
    },

    async holdPayment({ branchId, payment: p }: PaymentStep): Promise<StepOutcome> {
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'try', async (t) => {
        await freeze(db, t, { accountId: p.accountId, amount: p.amount, currency: p.currency, flowId: ref.flowId, step: 'payment-try', kind: 'freeze' });
        await exec(
          db,
          `INSERT INTO payments (order_id, account_id, amount, currency, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'FROZEN', NOW(3), NOW(3))`,
          [p.orderId, p.accountId, p.amount, p.currency],
          t,
        );
      });
      return refuseHanging(r.outcome, 'payment hold');
    },

    async capturePayment({ branchId, payment: p }: PaymentStep): Promise<StepOutcome> {
      const r = await withBarrier(db, branch(branchId), 'confirm', async (t) => {
        await capture(db, t, { accountId: p.accountId, amount: p.amount, currency: p.currency });
        await exec(db, `UPDATE payments SET state = 'CAPTURED', updated_at = NOW(3) WHERE order_id = ?`, [p.orderId], t);
      });
      return { outcome: r.outcome };
    },

    async releasePayment({ branchId, payment: p }: PaymentStep): Promise<StepOutcome> {
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'cancel', async (t) => {
        await unfreeze(db, t, { accountId: p.accountId, amount: p.amount, currency: p.currency, flowId: ref.flowId, step: 'payment-cancel', kind: 'unfreeze' });
        await exec(db, `UPDATE payments SET state = 'RELEASED', updated_at = NOW(3) WHERE order_id = ?`, [p.orderId], t);
      });
      return { outcome: r.outcome };
    },

    /** The sale on the merchant's own shard; the merchant account of a new currency is opened on first use. */
    async creditMerchant({ branchId, merchantAccountId, amount, currency }: MerchantCredit): Promise<StepOutcome> {
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'action', async (t) => {
        const m = { accountId: merchantAccountId, amount, currency, flowId: ref.flowId, step: 'merchant-credit', kind: 'sale' };
        // A plain read takes no lock: the hot path is the UPDATE in credit() alone (an upsert's shared lock on the
        // existing row, upgraded by the UPDATE, deadlocks concurrent sales).
        const [known] = await select(db, 'SELECT id FROM accounts WHERE id = ?', [merchantAccountId], t);
        if (!known) {
          await exec(
            db,
            `INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at)
             VALUES (?, 'merchant', ?, 0, 0, NOW(3), NOW(3)) ON DUPLICATE KEY UPDATE id = id`,
            [merchantAccountId, currency],
            t,
          );
        }
        await credit(db, t, m);
      });
      return { outcome: r.outcome };
    },
  };
}
