// The ledger's activities for the two other transfer guarantees (the saga's are in activities.ts):
// - TCC: holdTransferFrom (try: balance → frozen on the source, with the transfer row), holdTransferTo (try: a pending,
//   unspendable credit on the destination); confirmTransferFrom / confirmTransferTo apply them; cancelTransferFrom /
//   cancelTransferTo release them. Each is one local transaction guarded by the barrier (a confirm or cancel twice, or
//   a try after its cancel, has no effect).
// - XA: prepareTransferBranch (phase 1 of one shard's branch on a dedicated connection: the debit, the credit, or both
//   when the accounts share the shard), commitTransferBranch / rollbackTransferBranch (phase 2, idempotent).
import type { Connection } from 'mysql2/promise';
import type { Sequelize } from 'sequelize';
import { branch, refuseHanging, reject, type Branch } from '../../platform/activity';
import { withBarrier } from '../../platform/barrier';
import { exec } from '../../platform/db/sql';
import { StepErrors } from '../../platform/workflow/errors';
import { commitBranch, HangingBranchError, prepareBranch, rollbackBranch, type Xid } from '../../platform/xa';
import { LedgerErrors, type TransferRecord, type TransferStep, type XaBranchStep } from './contract';
import { applyIncoming, capture, dropIncoming, freeze, holdIncoming, MAX_BALANCE, unfreeze } from './money';


const insertTransfer = `INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', NOW(3), NOW(3))`;
const transferRow = (x: TransferRecord) => [x.id, x.fromAccountId, x.toAccountId, x.amount, x.currency, x.memo ?? null];

export function createTransferModeActivities({ db, url }: { db: Sequelize; url: string }) {
  const movement = (x: TransferRecord, accountId: string, flowId: string, step: string, kind: string) => ({
    accountId,
    amount: x.amount,
    currency: x.currency,
    flowId,
    step,
    kind,
  });
  return {
    async holdTransferFrom({ branchId, transfer: x }: TransferStep) {
      if (x.fromAccountId === x.toAccountId) reject(LedgerErrors.SameAccount, 'source and destination are the same account');
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'try', async (t) => {
        await exec(db, insertTransfer, transferRow(x), t);
        await freeze(db, t, movement(x, x.fromAccountId, ref.flowId, 'tcc-hold', 'freeze'));
      });
      return refuseHanging(r.outcome, 'hold on the source', 'cancel');
    },
    async holdTransferTo({ branchId, transfer: x }: TransferStep) {
      const r = await withBarrier(db, branch(branchId), 'try', (t) => holdIncoming(db, t, { accountId: x.toAccountId, amount: x.amount, currency: x.currency }));
      return refuseHanging(r.outcome, 'pending credit', 'cancel');
    },
    async confirmTransferFrom({ branchId, transfer: x }: TransferStep) {
      const r = await withBarrier(db, branch(branchId), 'confirm', (t) => capture(db, t, { accountId: x.fromAccountId, amount: x.amount, currency: x.currency }));
      return { outcome: r.outcome };
    },
    async confirmTransferTo({ branchId, transfer: x }: TransferStep) {
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'confirm', (t) => applyIncoming(db, t, movement(x, x.toAccountId, ref.flowId, 'tcc-confirm', 'credit')));
      return { outcome: r.outcome };
    },
    async cancelTransferFrom({ branchId, transfer: x }: TransferStep) {
      const ref = branch(branchId);
      const r = await withBarrier(db, ref, 'cancel', (t) => unfreeze(db, t, movement(x, x.fromAccountId, ref.flowId, 'tcc-cancel', 'unfreeze')));
      return { outcome: r.outcome };
    },
    async cancelTransferTo({ branchId, transfer: x }: TransferStep) {
      const r = await withBarrier(db, branch(branchId), 'cancel', (t) => dropIncoming(db, t, { accountId: x.toAccountId, amount: x.amount, currency: x.currency }));
      return { outcome: r.outcome };
    },

    /** Phase 1 of this shard's branch: prepared (or found prepared / committed by an earlier attempt), or rejected. */
    async prepareTransferBranch({ branchId, transfer: x, side }: XaBranchStep): Promise<{ outcome: string; xid: Xid }> {
      if (x.fromAccountId === x.toAccountId) reject(LedgerErrors.SameAccount, 'source and destination are the same account');
      const xid = xidOf(branchId);
      try {
        const outcome = await prepareBranch(url, xid, async (conn) => {
          if (side !== 'to') {
            await conn.query(insertTransfer, transferRow(x));
            await xaMove(conn, x, x.fromAccountId, -x.amount, xid.gtrid, 'xa-debit', 'debit');
          }
          if (side !== 'from') await xaMove(conn, x, x.toAccountId, x.amount, xid.gtrid, 'xa-credit', 'credit');
        });
        return { outcome, xid };
      } catch (err) {
        if (err instanceof HangingBranchError) reject(StepErrors.StepAlreadyCompensated, err.message);
        throw err;
      }
    },
    async commitTransferBranch({ branchId }: Branch) {
      return { outcome: await commitBranch(url, xidOf(branchId)) };
    },
    async rollbackTransferBranch({ branchId }: Branch) {
      return { outcome: await rollbackBranch(url, xidOf(branchId)) };
    },
  };
}

/** The xid of a branch: the flow's workflow id and the branch id (both readable in XA RECOVER). */
function xidOf(branchId: string): Xid {
  return { gtrid: branch(branchId).flowId, bqual: branchId };
}

/** One signed movement inside an XA branch: a conditional update plus its ledger line, or a business rejection. */
async function xaMove(conn: Connection, x: TransferRecord, accountId: string, signed: number, flowId: string, step: string, kind: string) {
  const amount = Math.abs(signed);
  const sql =
    signed < 0
      ? 'UPDATE accounts SET balance = balance - ?, updated_at = NOW(3) WHERE id = ? AND currency = ? AND balance >= ?'
      : 'UPDATE accounts SET balance = balance + ?, updated_at = NOW(3) WHERE id = ? AND currency = ? AND balance + frozen + pending <= ? - ?';
  const args = signed < 0 ? [amount, accountId, x.currency, amount] : [amount, accountId, x.currency, MAX_BALANCE, amount];
  const [r] = await conn.query(sql, args);
  if ((r as { affectedRows: number }).affectedRows !== 1) {
    const [rows] = await conn.query('SELECT currency FROM accounts WHERE id = ?', [accountId]);
    const row = (rows as { currency: string }[])[0];
    if (!row) reject(LedgerErrors.AccountNotFound, `account ${accountId} does not exist`);
    if (row.currency !== x.currency) reject(LedgerErrors.CurrencyMismatch, `account ${accountId} holds ${row.currency}, not ${x.currency}`);
    if (signed > 0) reject(LedgerErrors.BalanceLimit, `account ${accountId} would hold more than ${MAX_BALANCE} minor units`);
    reject(LedgerErrors.InsufficientFunds, `account ${accountId} has insufficient funds`);
  }
  await conn.query('INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES (?, ?, ?, ?, ?, NOW(3))', [
    accountId,
    flowId,
    step,
    signed,
    kind,
  ]);
}
