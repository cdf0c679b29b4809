// Every path of the transfer saga, started straight on Temporal (the API refuses these up front), each across the
// shards: insufficient funds (the debit is rejected: COMPENSATED, nothing moved), a credit rejected after the debit
// (EUR destination: the debit is refunded: COMPENSATED), and a plain transfer (COMPLETED) across and within a shard.
import { log } from '../../scripts/lib/log.mjs';

export async function pathChecks({ client, flowsQueue, TIMEOUTS, topology, accounts, shardOf, SHARDS, idOnShard }) {
  const elsewhere = (id) => accounts.byShard[(shardOf(id, SHARDS) + 1) % SHARDS];
  const [a, b] = accounts.byShard[0];
  const cases = [
    { name: 'insufficient-funds', from: 'path-poor', to: elsewhere('path-poor')[0], status: 'COMPENSATED', code: 'InsufficientFunds' },
    { name: 'credit-rejected-refund', from: elsewhere('path-eur')[1], to: 'path-eur', status: 'COMPENSATED', code: 'CurrencyMismatch' },
    { name: 'completed-cross-shard', from: a, to: elsewhere(a)[0], status: 'COMPLETED' },
    { name: 'completed-same-shard', from: a, to: b, status: 'COMPLETED' },
  ];
  const results = [];
  for (const c of cases) {
    const id = idOnShard(shardOf(c.from, SHARDS), 'path-');
    const handle = await client.workflow.start('transferMoney', {
      taskQueue: flowsQueue,
      workflowId: `transfer-${id}`,
      args: [{ id, fromAccountId: c.from, toAccountId: c.to, amount: 100, currency: 'USD', memo: null, timeouts: TIMEOUTS, topology }],
    });
    const r = await handle.result();
    const ok = r.status === c.status && (!c.code || r.reason?.code === c.code);
    results.push({ id, path: c.name, from: c.from, to: c.to, shards: [shardOf(c.from, SHARDS), shardOf(c.to, SHARDS)], expected: c.status, status: r.status, reason: r.reason?.code ?? null, ok });
  }
  const bad = results.filter((r) => !r.ok);
  (bad.length ? log.error : log.info)(`bench: saga paths: ${bad.length ? `FAILED ${JSON.stringify(bad)}` : `all ${results.length} as expected`}`);
  return results;
}
