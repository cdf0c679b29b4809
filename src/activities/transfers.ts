// Activities of the transfer saga: debit the source → credit the destination; refundDebit / reverseCredit undo them.
// Each is one local transaction guarded by the barrier; the transfer row is written by the same transactions.
import type { Sequelize } from 'sequelize';
import { exec } from '../db/sql';
import type { FlowReason, TransferInput, TransferStatus } from '../shared/flows';
import { BusinessErrors } from '../shared/errors';
import { withBarrier, type BarrierOutcome } from './barrier';
import { branch, type Branch } from './context';
import { credit, debit } from './money';
import { reject } from './reject';

export type TransferStep = Branch & { transfer: Omit<TransferInput, 'timeouts'> };

export interface StepOutcome {
  outcome: BarrierOutcome;
}

function refuseHanging(outcome: BarrierOutcome, step: string): StepOutcome {
  if (outcome === 'hanging') reject(BusinessErrors.StepAlreadyCompensated, `${step} arrived after its compensation`);
  return { outcome };
}

export function createTransferActivities({ db }: { db: Sequelize }) {
  return {
    async debitSource({ branchId, transfer: x }: TransferStep): Promise<StepOutcome> {
      const ref = branch(branchId);
      if (x.fromAccountId === x.toAccountId) reject(BusinessErrors.SameAccount, 'source and destination are the same account');
      const r = await withBarrier(db, ref, 'action', async (t) => {
        await exec(
          db,
          `INSERT IGNORE INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', NOW(3), NOW(3))`,
          [x.id, x.fromAccountId, x.toAccountId, x.amount, x.currency, x.memo ?? null],
          t,
        );
        await debit(db, t, { accountId: x.fromAccountId, amount: x.amount, currency: x.currency, flowId: ref.flowId, step: 'debit', kind: 'debit' });
      });
      return refuseHanging(r.outcome, 'debit');
    },

    async refundDebit({ branchId, transfer: x }: TransferStep): Promise<StepOutcome> {
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'compensate', (t) =>
        credit(db, t, { accountId: x.fromAccountId, amount: x.amount, currency: x.currency, flowId: ref.flowId, step: 'refund-debit', kind: 'refund' }),
      );
      return { outcome: r.outcome };
    },

    async creditDestination({ branchId, transfer: x }: TransferStep): Promise<StepOutcome> {
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'action', async (t) => {
        await credit(db, t, { accountId: x.toAccountId, amount: x.amount, currency: x.currency, flowId: ref.flowId, step: 'credit', kind: 'credit' });
        await exec(db, `UPDATE transfers SET status = 'COMPLETED', updated_at = NOW(3) WHERE id = ?`, [x.id], t);
      });
      return refuseHanging(r.outcome, 'credit');
    },

    async reverseCredit({ branchId, transfer: x }: TransferStep): Promise<StepOutcome> {
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'compensate', (t) =>
        debit(db, t, { accountId: x.toAccountId, amount: x.amount, currency: x.currency, flowId: ref.flowId, step: 'reverse-credit', kind: 'reversal' }),
      );
      return { outcome: r.outcome };
    },

    /** Records the final status of a transfer that did not complete (the row may not exist if the debit never ran). */
    async finishTransfer({ transfer: x, status, reason }: { transfer: TransferStep['transfer']; status: TransferStatus; reason?: FlowReason }) {
      await exec(
        db,
        `INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, reason_code, reason, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(3), NOW(3))
         ON DUPLICATE KEY UPDATE status = VALUES(status), reason_code = VALUES(reason_code), reason = VALUES(reason), updated_at = NOW(3)`,
        [x.id, x.fromAccountId, x.toAccountId, x.amount, x.currency, x.memo ?? null, status, reason?.code ?? null, reason?.message.slice(0, 512) ?? null],
      );
    },
  };
}
