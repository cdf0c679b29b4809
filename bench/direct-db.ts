// The `direct-db` scenario (run by bench/lib/direct-db.mjs under tsx): a transfer's SQL without any orchestration — the same
// statements, one local transaction per database, no coordinator. Straight from Node through Sequelize with the
// app's pool settings (createSequelize(url, config.db.pool), one pool per ledger shard of config.db.urls.ledger):
//   1. on the source's shard, one transaction: the debit branch's barrier row + transfer row + conditional debit +
//      ledger entry (withBarrier + the INSERT of debitSource + debit());
//   2. on the destination's shard, one transaction: the credit branch's barrier row + credit + ledger entry
//      (withBarrier + credit());
//   3. on the source's shard: the transfer's status (finishTransfer's statement).
// The very statements of src/activities/ledger/activities.ts, via src/platform/barrier.ts and src/activities/ledger/money.ts;
// the transfer id is drawn to hash to the source's shard, as the API draws it. A failure between 1 and 3 is left as
// it is (no compensation: there is no coordinator); with the bench's funds none happens. This is the ceiling a saga
// can approach.
//
//   tsx bench/direct-db.ts '{"concurrency":64,"warmupMs":3000,"durationMs":10000,"accounts":200,"prefix":"bench-","cross":0.8}'
// Prints one JSON line: { ok, errors, deadlockRetries, crossShard, windowS, latencies summary }.
import type { Sequelize } from 'sequelize';
import { loadConfig } from '../src/config';
import { shardOf } from '../src/activities/ledger/contract';
import { credit, debit } from '../src/activities/ledger/money';
import { idOnShard } from '../src/activities/ledger/reads';
import { withBarrier } from '../src/platform/barrier';
import { createSequelize } from '../src/platform/db/sequelize';
import { exec } from '../src/platform/db/sql';
import { closedLoop, openLoop } from './lib/load.mjs';
import { benchAccounts, pairPicker } from './lib/pairs.mjs';
import { summarize } from './lib/stats.mjs';

interface Args {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  accounts: number;
  prefix: string;
  /** Fraction of transfers whose accounts are on different shards. */
  cross: number;
  rate?: number;
}

async function transfer(shards: Sequelize[], from: string, to: string, amount: number) {
  const n = shards.length;
  const source = shards[shardOf(from, n)];
  const destination = shards[shardOf(to, n)];
  const x = { id: idOnShard(shardOf(from, n), n), fromAccountId: from, toAccountId: to, amount, currency: 'USD', memo: null };
  const flowId = `transfer-${x.id}`;
  const d = await withBarrier(source, { flowId, branchId: 'debit' }, 'action', async (t) => {
    await exec(
      source,
      `INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', NOW(3), NOW(3))`,
      [x.id, x.fromAccountId, x.toAccountId, x.amount, x.currency, x.memo],
      t,
    );
    await debit(source, t, { accountId: from, amount, currency: x.currency, flowId, step: 'debit', kind: 'debit' });
  });
  if (d.outcome !== 'applied') throw new Error(`debit barrier: ${d.outcome}`);
  const c = await withBarrier(destination, { flowId, branchId: 'credit' }, 'action', (t) =>
    credit(destination, t, { accountId: to, amount, currency: x.currency, flowId, step: 'credit', kind: 'credit' }),
  );
  if (c.outcome !== 'applied') throw new Error(`credit barrier: ${c.outcome}`);
  await exec(
    source,
    `INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, reason_code, reason, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(3), NOW(3))
     ON DUPLICATE KEY UPDATE status = VALUES(status), reason_code = VALUES(reason_code), reason = VALUES(reason), updated_at = NOW(3)`,
    [x.id, x.fromAccountId, x.toAccountId, x.amount, x.currency, x.memo, 'COMPLETED', null, null],
  );
}

async function main() {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const config = loadConfig();
  const shards = config.db.urls.ledger.map((url) => createSequelize(url, config.db.pool));
  const pair = pairPicker(benchAccounts({ prefix: args.prefix, count: args.accounts, shards: shards.length, shardOf }), args.cross);
  let deadlockRetries = 0;
  let crossShard = 0;
  let started = 0;
  const op = async () => {
    const [from, to] = pair();
    started++;
    if (shardOf(from, shards.length) !== shardOf(to, shards.length)) crossShard++;
    const amount = 1 + Math.floor(Math.random() * 1000);
    for (let attempt = 0; ; attempt++) {
      try {
        await transfer(shards, from, to, amount);
        return true;
      } catch (err) {
        // withBarrier already re-runs a deadlock victim in place (5 attempts); one that still lost is counted here and
        // run again whole, as an application would. Each transaction locks one account row, so none is expected.
        const code = (err as { parent?: { errno?: number } }).parent?.errno;
        if ((code === 1213 || code === 1205) && attempt < 10) {
          deadlockRetries++;
          continue;
        }
        throw err;
      }
    }
  };
  // Warm the pools so connection setup is not measured.
  await Promise.all(shards.flatMap((db) => Array.from({ length: 20 }, () => db.query('SELECT 1'))));
  // Tell the parent when the measurement window opens and closes (it meters the processes over exactly that window).
  setTimeout(() => process.stdout.write('window-start\n'), args.warmupMs);
  setTimeout(() => process.stdout.write('window-end\n'), args.warmupMs + args.durationMs);
  const r = args.rate
    ? await openLoop({ rate: args.rate, warmupMs: args.warmupMs, durationMs: args.durationMs, op })
    : await closedLoop({ concurrency: args.concurrency, warmupMs: args.warmupMs, durationMs: args.durationMs, op });
  await Promise.all(shards.map((db) => db.close()));
  const { latencies, firstError, ...rest } = r;
  console.log(
    JSON.stringify({
      ...rest,
      deadlockRetries,
      crossShard: started ? crossShard / started : null,
      firstError: firstError ? String((firstError as Error).message ?? firstError) : undefined,
      ...summarize(latencies),
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
