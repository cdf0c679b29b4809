// The ledger's sandbox-safe face: how accounts map to shards and task queues, the DTOs its activities take, its error
// types and the activity types that flows proxy. Workflows import this file (types and pure functions only).
//
// Shard rule: an account lives on shard `fnv1a32(id) mod shards`, FNV-1a over the id's UTF-16 code units (ids are
// ASCII by validation). Any id works, old ones like `demo-alice` included; the shard count is fixed at install time.
// A transfer lives on its source account's shard: its id is drawn so that it hashes to that same shard, so
// GET /v1/transfers/{id} reads one shard and the transfer row commits with the debit.
import type { createLedgerActivities } from './activities';

export const LedgerErrors = {
  InsufficientFunds: 'InsufficientFunds',
  AccountNotFound: 'AccountNotFound',
  CurrencyMismatch: 'CurrencyMismatch',
  SameAccount: 'SameAccount',
  /** The credit would take the account past 2^53 − 1 minor units (the most a JSON number holds exactly). */
  BalanceLimit: 'BalanceLimit',
} as const;

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function shardOf(id: string, shards: number): number {
  return fnv1a32(id) % shards;
}

/** The task queue of a ledger shard (`<prefix>-ledger-<n>`). */
export function ledgerQueue(prefix: string, shard: number): string {
  return `${prefix}-ledger-${shard}`;
}

/**
 * The merchant account that receives a sale. With `subAccounts` > 1 a merchant's sales in a currency are spread over
 * that many ordinary accounts (`merchant-USD.0` … `merchant-USD.15`, each on the shard its id maps to), chosen by the
 * order id: concurrent sales no longer queue on one hot row, and the merchant's takings are their sum. Without it (or
 * 1) every sale goes to `merchant-USD`.
 */
export function merchantAccount(merchantAccountId: string, currency: string, orderId?: string, subAccounts = 1): string {
  const base = `${merchantAccountId}-${currency}`;
  if (subAccounts <= 1 || orderId === undefined) return base;
  return `${base}.${fnv1a32(orderId) % subAccounts}`;
}

/** Every account a merchant's sales in `currency` may land on. */
export function merchantAccounts(merchantAccountId: string, currency: string, subAccounts = 1): string[] {
  const base = `${merchantAccountId}-${currency}`;
  return subAccounts <= 1 ? [base] : Array.from({ length: subAccounts }, (_, k) => `${base}.${k}`);
}

export interface TransferRecord {
  id: string;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  currency: string;
  memo?: string | null;
}

export interface PaymentRecord {
  orderId: string;
  accountId: string;
  amount: number;
  currency: string;
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
