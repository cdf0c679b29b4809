// What every transaction type does, behind one interface (as DTM's trans_type_*.go): the branches a body declares,
// what happens to a transaction still prepared at its timeout-to-fail, and how a submitted or aborting one is driven
// to `succeed` or `failed`.
import type { Transaction } from './transaction';

export interface Processor {
  /** The branches the body's steps declare (saga, msg); tcc and xa register theirs one by one. */
  declare(tx: Transaction): void;
  /** Still prepared at timeout-to-fail: abort (tcc, xa) or ask the application (msg). Runs until cancelled. */
  expire(tx: Transaction): Promise<void>;
  /** Drives a submitted or aborting transaction to its end. */
  process(tx: Transaction): Promise<void>;
}
