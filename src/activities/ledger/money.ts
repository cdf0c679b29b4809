// Money movements on accounts, each inside the caller's transaction: a conditional UPDATE (never read-modify-write in
// JS) plus the ledger entry that records it. Every ledger entry is the signed change of the account's `balance`, so an
// account's ledger always sums to its balance.
import type { Sequelize, Transaction } from 'sequelize';
import { exec, select } from '../../platform/db/sql';
import { reject } from '../../platform/activity';
import { LedgerErrors } from './contract';


export interface Movement {
  accountId: string;
  amount: number;
  currency: string;
  flowId: string;
  step: string;
  kind: string;
}

async function ledger(db: Sequelize, t: Transaction, m: Movement, signed: number) {
  await exec(
    db,
    'INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES (?, ?, ?, ?, ?, NOW(3))',
    [m.accountId, m.flowId, m.step, signed, m.kind],
    t,
  );
}

/** Explains why a conditional update on an account matched no row, as a business rejection. */
async function explain(db: Sequelize, t: Transaction, m: Movement, crediting = false): Promise<never> {
  const [row] = await select<{ currency: string }>(db, 'SELECT currency FROM accounts WHERE id = ?', [m.accountId], t);
  if (!row) reject(LedgerErrors.AccountNotFound, `account ${m.accountId} does not exist`);
  if (row.currency !== m.currency) {
    reject(LedgerErrors.CurrencyMismatch, `account ${m.accountId} holds ${row.currency}, not ${m.currency}`);
  }
  if (crediting) reject(LedgerErrors.BalanceLimit, `account ${m.accountId} would hold more than ${MAX_BALANCE} minor units`);
  reject(LedgerErrors.InsufficientFunds, `account ${m.accountId} has insufficient funds`);
}

/**
 * The most an account may hold (balance + frozen), in minor units: 2^53 − 1, so every balance and every sum the API
 * shows is an exact JSON number. A credit past it is refused (BalanceLimit) before anything is written.
 */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

/** balance -= amount, only if the account exists, has the currency and enough balance. */
export async function debit(db: Sequelize, t: Transaction, m: Movement): Promise<void> {
  const n = await exec(
    db,
    'UPDATE accounts SET balance = balance - ?, updated_at = NOW(3) WHERE id = ? AND currency = ? AND balance >= ?',
    [m.amount, m.accountId, m.currency, m.amount],
    t,
  );
  if (n !== 1) await explain(db, t, m);
  await ledger(db, t, m, -m.amount);
}

/** balance += amount, only if the account exists and has the currency. */
export async function credit(db: Sequelize, t: Transaction, m: Movement): Promise<void> {
  const n = await exec(
    db,
    'UPDATE accounts SET balance = balance + ?, updated_at = NOW(3) WHERE id = ? AND currency = ? AND balance + frozen + pending <= ? - ?',
    [m.amount, m.accountId, m.currency, MAX_BALANCE, m.amount],
    t,
  );
  if (n !== 1) await explain(db, t, m, true);
  await ledger(db, t, m, m.amount);
}

/** balance -= amount, frozen += amount (a TCC payment try). */
export async function freeze(db: Sequelize, t: Transaction, m: Movement): Promise<void> {
  const n = await exec(
    db,
    `UPDATE accounts SET balance = balance - ?, frozen = frozen + ?, updated_at = NOW(3)
      WHERE id = ? AND currency = ? AND balance >= ?`,
    [m.amount, m.amount, m.accountId, m.currency, m.amount],
    t,
  );
  if (n !== 1) await explain(db, t, m);
  await ledger(db, t, m, -m.amount);
}

/** frozen -= amount, balance += amount (a TCC payment cancel). */
export async function unfreeze(db: Sequelize, t: Transaction, m: Movement): Promise<void> {
  await changeExactlyOne(db, t, m.accountId, `UPDATE accounts SET balance = balance + ?, frozen = frozen - ?, updated_at = NOW(3)
      WHERE id = ? AND currency = ? AND frozen >= ?`, [m.amount, m.amount, m.accountId, m.currency, m.amount], 'frozen funds to release are missing');
  await ledger(db, t, m, m.amount);
}

/** frozen -= amount: the held money leaves the account (a TCC payment confirm). No balance change, no ledger line. */
export async function capture(db: Sequelize, t: Transaction, m: Omit<Movement, 'step' | 'kind' | 'flowId'>): Promise<void> {
  await changeExactlyOne(db, t, m.accountId, 'UPDATE accounts SET frozen = frozen - ?, updated_at = NOW(3) WHERE id = ? AND currency = ? AND frozen >= ?', [m.amount, m.accountId, m.currency, m.amount], 'frozen funds to capture are missing');
}

/** pending += amount: an unspendable incoming credit (a TCC transfer's try on the destination). No ledger line. */
export async function holdIncoming(db: Sequelize, t: Transaction, m: Omit<Movement, 'step' | 'kind' | 'flowId'>): Promise<void> {
  const n = await exec(
    db,
    `UPDATE accounts SET pending = pending + ?, updated_at = NOW(3)
      WHERE id = ? AND currency = ? AND balance + frozen + pending <= ? - ?`,
    [m.amount, m.accountId, m.currency, MAX_BALANCE, m.amount],
    t,
  );
  if (n !== 1) await explain(db, t, { ...m, flowId: '', step: '', kind: '' }, true);
}

/** pending -= amount, balance += amount (a TCC transfer's confirm on the destination), with its ledger line. */
export async function applyIncoming(db: Sequelize, t: Transaction, m: Movement): Promise<void> {
  await changeExactlyOne(db, t, m.accountId, 'UPDATE accounts SET pending = pending - ?, balance = balance + ?, updated_at = NOW(3) WHERE id = ? AND currency = ? AND pending >= ?', [m.amount, m.amount, m.accountId, m.currency, m.amount], 'the pending credit to apply is missing');
  await ledger(db, t, m, m.amount);
}

/** pending -= amount (a TCC transfer's cancel on the destination). */
export async function dropIncoming(db: Sequelize, t: Transaction, m: Omit<Movement, 'step' | 'kind' | 'flowId'>): Promise<void> {
  await changeExactlyOne(db, t, m.accountId, 'UPDATE accounts SET pending = pending - ?, updated_at = NOW(3) WHERE id = ? AND currency = ? AND pending >= ?', [m.amount, m.accountId, m.currency, m.amount], 'the pending credit to drop is missing');
}

/** Opens an account with an opening ledger entry, so its ledger sums to its balance from the first cent. */
export async function openAccount(
  db: Sequelize,
  t: Transaction,
  a: { id: string; owner: string; currency: string; initialBalance: number },
): Promise<void> {
  await exec(
    db,
    `INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at)
     VALUES (?, ?, ?, ?, 0, NOW(3), NOW(3))`,
    [a.id, a.owner, a.currency, a.initialBalance],
    t,
  );
  if (a.initialBalance > 0) {
    const m = { accountId: a.id, amount: a.initialBalance, currency: a.currency, flowId: `account-${a.id}`, step: 'open', kind: 'opening' };
    await ledger(db, t, m, a.initialBalance);
  }
}

/** Changes one account row under a guard (its WHERE states what must hold); no row changed: `missing` is gone. */
async function changeExactlyOne(db: Sequelize, t: Transaction, accountId: string, sql: string, args: unknown[], missing: string): Promise<void> {
  const n = await exec(db, sql, args, t);
  if (n !== 1) throw new Error(`account ${accountId}: ${missing}`);
}
