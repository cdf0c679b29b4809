// The `direct-db` scenario (run by bench/run.mjs under tsx): a transfer's SQL without any orchestration, one local
// READ COMMITTED transaction per transfer, straight from Node through Sequelize with the app's pool settings
// (createSequelize(loadConfig().db)): the debit branch's barrier row + transfer row + conditional debit + ledger row,
// then the credit branch's barrier row + credit + ledger row + transfer status — the very statements of
// src/activities/{barrier,money,transfers}.ts, via withBarrier/debit/credit. This is the ceiling a saga can approach.
//
//   tsx bench/direct-db.ts '{"concurrency":64,"warmupMs":3000,"durationMs":10000,"accounts":200,"prefix":"bench-"}'
// Prints one JSON line: { ok, errors, deadlockRetries, windowS, latencies summary }.
import { randomUUID } from 'node:crypto';
import type { Sequelize, Transaction } from 'sequelize';
import { Transaction as Tx } from 'sequelize';
import { withBarrier } from '../src/activities/barrier';
import { credit, debit } from '../src/activities/money';
import { loadConfig } from '../src/config';
import { exec } from '../src/db/sql';
import { createSequelize } from '../src/db/sequelize';
import { closedLoop, openLoop } from './lib/load.mjs';
import { summarize } from './lib/stats.mjs';

interface Args {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  accounts: number;
  prefix: string;
  rate?: number;
}

/** `db` whose transaction() joins `t` instead of opening a new one, so withBarrier runs inside the outer transaction. */
function inTransaction(db: Sequelize, t: Transaction): Sequelize {
  const joined = Object.create(db) as Sequelize;
  (joined as unknown as { transaction: unknown }).transaction = (_opts: unknown, fn: (t: Transaction) => Promise<unknown>) => fn(t);
  return joined;
}

async function transfer(db: Sequelize, from: string, to: string, amount: number) {
  const id = randomUUID();
  const flowId = `transfer-${id}`;
  const x = { id, fromAccountId: from, toAccountId: to, amount, currency: 'USD', memo: null };
  await db.transaction({ isolationLevel: Tx.ISOLATION_LEVELS.READ_COMMITTED }, async (t) => {
    const tx = inTransaction(db, t);
    const d = await withBarrier(tx, { flowId, branchId: 'debit' }, 'action', async (t) => {
      await exec(
        db,
        `INSERT IGNORE INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', NOW(3), NOW(3))`,
        [x.id, x.fromAccountId, x.toAccountId, x.amount, x.currency, x.memo],
        t,
      );
      await debit(db, t, { accountId: from, amount, currency: 'USD', flowId, step: 'debit', kind: 'debit' });
    });
    if (d.outcome !== 'applied') throw new Error(`debit barrier: ${d.outcome}`);
    const c = await withBarrier(tx, { flowId, branchId: 'credit' }, 'action', async (t) => {
      await credit(db, t, { accountId: to, amount, currency: 'USD', flowId, step: 'credit', kind: 'credit' });
      await exec(db, `UPDATE transfers SET status = 'COMPLETED', updated_at = NOW(3) WHERE id = ?`, [x.id], t);
    });
    if (c.outcome !== 'applied') throw new Error(`credit barrier: ${c.outcome}`);
  });
}

async function main() {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const db = createSequelize(loadConfig().db);
  let deadlockRetries = 0;
  const pick = () => `${args.prefix}${Math.floor(Math.random() * args.accounts)}`;
  const op = async () => {
    const from = pick();
    let to = pick();
    while (to === from) to = pick();
    const amount = 1 + Math.floor(Math.random() * 1000);
    for (let attempt = 0; ; attempt++) {
      try {
        await transfer(db, from, to, amount);
        return true;
      } catch (err) {
        // debit(A)+credit(B) against credit(A)+debit(B) in one transaction can deadlock (the saga's separate
        // transactions cannot); retry like an application would, and count it.
        const code = (err as { parent?: { errno?: number } }).parent?.errno;
        if ((code === 1213 || code === 1205) && attempt < 10) {
          deadlockRetries++;
          continue;
        }
        throw err;
      }
    }
  };
  // Warm the pool so connection setup is not measured.
  await Promise.all(Array.from({ length: 20 }, () => db.query('SELECT 1')));
  // Tell the parent when the measurement window opens and closes (it meters the processes over exactly that window).
  setTimeout(() => process.stdout.write('window-start\n'), args.warmupMs);
  setTimeout(() => process.stdout.write('window-end\n'), args.warmupMs + args.durationMs);
  const r = args.rate
    ? await openLoop({ rate: args.rate, warmupMs: args.warmupMs, durationMs: args.durationMs, op })
    : await closedLoop({ concurrency: args.concurrency, warmupMs: args.warmupMs, durationMs: args.durationMs, op });
  await db.close();
  const { latencies, firstError, ...rest } = r;
  console.log(JSON.stringify({ ...rest, deadlockRetries, firstError: firstError ? String((firstError as Error).message ?? firstError) : undefined, ...summarize(latencies) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
