// The ledger's read side for routes and flow routes: every lookup goes straight to the shard an id maps to (no shard
// is ever scanned), and new ids are drawn so that they land where they must.
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Sequelize } from 'sequelize';
import { select } from '../../platform/db/sql';
import type { Stores } from '../../platform/stores';
import { shardOf } from './contract';

export interface AccountRow {
  id: string;
  owner: string;
  currency: string;
  balance: number;
  frozen: number;
  created_at: Date;
  updated_at: Date;
}

export interface TransferRow {
  id: string;
  from_account_id: string;
  to_account_id: string;
  amount: number;
  currency: string;
  memo: string | null;
  status: string;
  reason_code: string | null;
  reason: string | null;
  created_at: Date;
}

/** The database of the shard that holds `id` (an account id, or a transfer id drawn by newTransferId). */
export function shardDb(stores: Stores, id: string): Sequelize {
  const shards = stores.of('ledger');
  return shards[shardOf(id, shards.length)].db;
}

export async function findAccount(stores: Stores, id: string): Promise<AccountRow | undefined> {
  const [row] = await select<AccountRow>(shardDb(stores, id), 'SELECT * FROM accounts WHERE id = ?', [id]);
  return row;
}

/** What never changes about an account once it is open (accounts are never deleted, their currency never changes). */
export interface AccountFacts {
  currency: string;
}

/** Accounts' facts this process has seen, per set of stores (a test may run several apps in one process). */
const factsCaches = new WeakMap<Stores, LRUCache<string, AccountFacts>>();

/** The accounts whose facts one process keeps: the hot ones of any realistic load fit, the memory stays bounded. */
const FACTS_CACHED = 100_000;

/**
 * An account's facts (its currency), read from its shard the first time and from this process's memory after that;
 * undefined while the account does not exist (a miss is never cached: the account may be opened a moment later).
 */
export async function accountFacts(stores: Stores, id: string): Promise<AccountFacts | undefined> {
  let cache = factsCaches.get(stores);
  if (!cache) factsCaches.set(stores, (cache = new LRUCache({ max: FACTS_CACHED })));
  const known = cache.get(id);
  if (known) return known;
  const [row] = await select<{ currency: string }>(shardDb(stores, id), 'SELECT currency FROM accounts WHERE id = ?', [id]);
  if (!row) return undefined;
  const facts = { currency: row.currency };
  cache.set(id, facts);
  return facts;
}

export async function findTransfer(stores: Stores, id: string): Promise<TransferRow | undefined> {
  const [row] = await select<TransferRow>(shardDb(stores, id), 'SELECT * FROM transfers WHERE id = ?', [id]);
  return row;
}

/** A fresh id that lives on `shard`: a UUID redrawn until it hashes there (on average `shards` draws). */
export function idOnShard(shard: number, shards: number, prefix = ''): string {
  for (;;) {
    const id = `${prefix}${randomUUID()}`;
    if (shardOf(id, shards) === shard) return id;
  }
}

/** A transfer's id: on its source account's shard, so its row commits with the debit and GET reads one shard. */
export function newTransferId(stores: Stores, fromAccountId: string): string {
  const shards = stores.of('ledger').length;
  return idOnShard(shardOf(fromAccountId, shards), shards);
}
