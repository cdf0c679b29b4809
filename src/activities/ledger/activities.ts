// The ledger's activities, served on each shard's own task queue over that shard's database only. Transfers: debit
// the source → credit the destination (the pivot: never reversed), refundDebit undoes the debit, reverseCredit is kept
// for runs recorded before the credit became the pivot; finishTransfer records the outcome on
// the transfer row (on the source's shard). Payments (TCC): holdPayment freezes, capturePayment takes the frozen money,
// releasePayment gives it back; creditMerchant books the sale on the merchant's shard. Each write is one local
// transaction guarded by the barrier. The TCC and XA transfers' activities are in transfer-modes.ts, the checkout's
// payment in payments.ts.
import type { Sequelize } from 'sequelize';
import { branch, eachItem, refuseHanging, reject } from '../../platform/activity';
import { retryLockConflicts, withBarrier } from '../../platform/barrier';
import { exec, select } from '../../platform/db/sql';
import { newEvent } from '../../platform/events';
import { recordEvent } from '../../platform/outbox';
import { TransferCompensated, TransferCompleted } from '../../events/catalog';
import { LedgerErrors, type LedgerActivities, type StepOutcome, type TransferOutcome, type TransferStatus, type TransferStep } from './contract';
import { credit, debit } from './money';
import { createPaymentActivities } from './payments';
import { createTransferModeActivities } from './transfer-modes';


export function createLedgerActivities({ db, url }: { db: Sequelize; url: string }): LedgerActivities {
  const one = createTransferSteps(db);
  return {
    ...createTransferModeActivities({ db, url }),
    ...createPaymentActivities(db),
    ...one,
    // A batch run's steps, coalesced: one call for the transfers of a batch that reach the same step on this shard
    // together; each item is still its own local transaction and barrier (eachItem).
    debitSources: (steps: TransferStep[]) => eachItem(steps, one.debitSource),
    refundDebits: (steps: TransferStep[]) => eachItem(steps, one.refundDebit),
    creditDestinations: (steps: TransferStep[]) => eachItem(steps, one.creditDestination),
    finishTransfers: (outcomes: TransferOutcome[]) => eachItem(outcomes, one.finishTransfer),
  };
}


function createTransferSteps(db: Sequelize) {
  return {
    async debitSource({ branchId, flowId, transfer: x }: TransferStep): Promise<StepOutcome> {
      const ref = branch(branchId, flowId);
      if (x.fromAccountId === x.toAccountId) reject(LedgerErrors.SameAccount, 'source and destination are the same account');
      const r = await withBarrier(db, ref, 'action', async (t) => {
        // The barrier runs this once per flow; a second row for the id is a real error and must surface.
        await exec(
          db,
          `INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', NOW(3), NOW(3))`,
          [x.id, x.fromAccountId, x.toAccountId, x.amount, x.currency, x.memo ?? null],
          t,
        );
        await debit(db, t, { accountId: x.fromAccountId, amount: x.amount, currency: x.currency, flowId: ref.flowId, step: 'debit', kind: 'debit' });
      });
      return refuseHanging(r.outcome, 'debit');
    },

    async refundDebit({ branchId, flowId, transfer: x }: TransferStep): Promise<StepOutcome> {
      const ref = branch(branchId, flowId);
      const r = await withBarrier(db, ref, 'compensate', (t) =>
        credit(db, t, { accountId: x.fromAccountId, amount: x.amount, currency: x.currency, flowId: ref.flowId, step: 'refund-debit', kind: 'refund' }),
      );
      return { outcome: r.outcome };
    },

    async creditDestination({ branchId, flowId, transfer: x }: TransferStep): Promise<StepOutcome> {
      const ref = branch(branchId, flowId);
      const r = await withBarrier(db, ref, 'action', (t) =>
        credit(db, t, { accountId: x.toAccountId, amount: x.amount, currency: x.currency, flowId: ref.flowId, step: 'credit', kind: 'credit' }),
      );
      return refuseHanging(r.outcome, 'credit');
    },

    async reverseCredit({ branchId, flowId, transfer: x }: TransferStep): Promise<StepOutcome> {
      const ref = branch(branchId, flowId);
      const r = await withBarrier(db, ref, 'compensate', (t) =>
        debit(db, t, { accountId: x.toAccountId, amount: x.amount, currency: x.currency, flowId: ref.flowId, step: 'reverse-credit', kind: 'reversal' }),
      );
      return { outcome: r.outcome };
    },

    /**
     * Records a transfer's final status on its row (written here when the debit never ran), and announces it —
     * `transfer.completed` / `transfer.compensated` in the same transaction, once: only the call that moves the row
     * out of RUNNING (or writes it) records the event; a retry finds the status already final.
     */
    async finishTransfer({ transfer: x, status, reason }: TransferOutcome) {
      await retryLockConflicts(() =>
        db.transaction(async (t) => {
          const [row] = await select<{ status: TransferStatus }>(db, 'SELECT status FROM transfers WHERE id = ? FOR UPDATE', [x.id], t);
          await exec(
            db,
            `INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, reason_code, reason, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(3), NOW(3))
             ON DUPLICATE KEY UPDATE status = VALUES(status), reason_code = VALUES(reason_code), reason = VALUES(reason), updated_at = NOW(3)`,
            [x.id, x.fromAccountId, x.toAccountId, x.amount, x.currency, x.memo ?? null, status, reason?.code ?? null, reason?.message.slice(0, 512) ?? null],
            t,
          );
          const def = status === 'COMPLETED' ? TransferCompleted : status === 'COMPENSATED' ? TransferCompensated : undefined;
          if (def && (!row || row.status === 'RUNNING')) {
            const data = { transferId: x.id, fromAccountId: x.fromAccountId, toAccountId: x.toAccountId, amount: x.amount, currency: x.currency };
            const why = status === 'COMPENSATED' && reason ? { reason: { code: reason.code, message: reason.message } } : {};
            await recordEvent(db, t, newEvent(def, x.id, { ...data, ...why }));
          }
        }),
      );
    },
  };
}
