// The ledger's sandbox-safe face: how accounts map to shards and task queues, the DTOs its activities take, its error
// types and the activity types that flows proxy. Workflows import this file (types and pure functions only).
//
// Shard rule: an account lives on shard `fnv1a32(id) mod shards`, FNV-1a over the id's UTF-16 code units (ids are
// ASCII by validation). Any id works, old ones like `demo-alice` included; the shard count is fixed at install time.
// A transfer lives on its source account's shard: its id is drawn so that it hashes to that same shard, so
// GET /v1/transfers/{id} reads one shard and the transfer row commits with the debit.
import type { Branch, ItemResult } from '../../platform/activity';
import type { BarrierOutcome } from '../../platform/barrier';
import type { FlowReason } from '../../platform/workflow/types';
import type { Xid } from '../../platform/xa';

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

export type TransferStep = Branch & { transfer: TransferRecord };
export type PaymentStep = Branch & { payment: PaymentRecord };
export type MerchantCredit = Branch & { orderId: string; merchantAccountId: string; amount: number; currency: string };
export type TransferStatus = 'RUNNING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED';
export type TransferOutcome = { transfer: TransferRecord; status: TransferStatus; reason?: FlowReason };
/** Which side(s) of a transfer one XA branch writes: both when the two accounts live on the same shard. */
export type XaSide = 'from' | 'to' | 'both';
export type XaBranchStep = Branch & { transfer: TransferRecord; side: XaSide };

export interface StepOutcome {
  outcome: BarrierOutcome;
}

/**
 * The activities every ledger shard serves on its own task queue (implemented by createLedgerActivities). Each write
 * is one local transaction guarded by the barrier.
 */
export interface LedgerActivities {
  // Saga transfers: the debit, the credit (the pivot: never reversed) and the debit's refund.
  debitSource(step: TransferStep): Promise<StepOutcome>;
  refundDebit(step: TransferStep): Promise<StepOutcome>;
  creditDestination(step: TransferStep): Promise<StepOutcome>;
  /** Kept for runs recorded before the credit became the pivot. */
  reverseCredit(step: TransferStep): Promise<StepOutcome>;
  /** Records a transfer's final status on its row (on the source's shard) and announces it, once. */
  finishTransfer(outcome: TransferOutcome): Promise<void>;
  // A batch run's steps, coalesced: one call for the transfers that reach the same step on this shard together; each
  // item is its own local transaction and barrier rows, rejected alone.
  debitSources(steps: TransferStep[]): Promise<ItemResult<StepOutcome>[]>;
  refundDebits(steps: TransferStep[]): Promise<ItemResult<StepOutcome>[]>;
  creditDestinations(steps: TransferStep[]): Promise<ItemResult<StepOutcome>[]>;
  finishTransfers(outcomes: TransferOutcome[]): Promise<ItemResult<void>[]>;
  // TCC transfers: try (hold), confirm, cancel on each side.
  holdTransferFrom(step: TransferStep): Promise<StepOutcome>;
  holdTransferTo(step: TransferStep): Promise<StepOutcome>;
  confirmTransferFrom(step: TransferStep): Promise<StepOutcome>;
  confirmTransferTo(step: TransferStep): Promise<StepOutcome>;
  cancelTransferFrom(step: TransferStep): Promise<StepOutcome>;
  cancelTransferTo(step: TransferStep): Promise<StepOutcome>;
  // XA transfers: phase 1 of one shard's branch, then its commit or rollback (idempotent).
  prepareTransferBranch(step: XaBranchStep): Promise<{ outcome: string; xid: Xid }>;
  commitTransferBranch(step: Branch): Promise<{ outcome: string }>;
  rollbackTransferBranch(step: Branch): Promise<{ outcome: string }>;
  // Checkout: the account's currency, and the payment as a TCC participant plus the merchant's sale.
  describeAccount(q: { accountId: string }): Promise<{ id: string; currency: string }>;
  holdPayment(step: PaymentStep): Promise<StepOutcome>;
  capturePayment(step: PaymentStep): Promise<StepOutcome>;
  releasePayment(step: PaymentStep): Promise<StepOutcome>;
  creditMerchant(step: MerchantCredit): Promise<StepOutcome>;
}
