// Ledger, on every shard and over all of them: nothing pending (TCC transfers) and no prepared XA transaction on any
// server (XA RECOVER empty); every account on the shard its id maps to and on one shard only, nothing negative,
// nothing frozen; every account's entries (on its shard) summing to its balance, no entry without its account, no
// movement twice; every transfer row on its source's shard (its id hashes there too), every payment on its payer's
// shard and no hold left; money per currency conserved over all shards to the cent (balance + frozen, merchant
// accounts included), and the seed what it claims.
import { groupBy } from '../snapshot.mjs';

function checkAccounts(shard, shardOf, seen, v) {
  const i = shard.index;
  const totals = {};
  for (const a of shard.accounts) {
    const balance = Number(a.balance);
    const frozen = Number(a.frozen);
    if (shardOf(a.id) !== i) v('account-on-wrong-shard', { account: a.id, shard: i, expected: shardOf(a.id) });
    if (seen.has(a.id)) v('account-on-two-shards', { account: a.id, shards: [seen.get(a.id), i] });
    seen.set(a.id, i);
    totals[a.currency] = (totals[a.currency] ?? 0) + balance + frozen;
    if (balance < 0 || frozen < 0) v('negative-account', { account: a.id, shard: i, balance, frozen });
    else if (frozen !== 0) v('frozen-left', { account: a.id, shard: i, balance, frozen });
  }
  return totals;
}

function checkEntries(shard, v) {
  const i = shard.index;
  for (const r of shard.ledgerOff) v('ledger-mismatch', { account: r.id, shard: i, balance: Number(r.balance), ledger: Number(r.ledger) });
  for (const r of shard.strays) v('entry-without-account', { account: r.account_id, shard: i, entries: Number(r.n) });
  for (const r of shard.duplicateMovements) v('duplicate-movement', { flow: r.flow_id, step: r.step, account: r.account_id, shard: i, n: Number(r.n) });
}

function checkTransfersAndPayments(shard, shardOf, seen, v) {
  const i = shard.index;
  for (const t of shard.transfers) {
    if (shardOf(t.from_account_id) !== i || shardOf(t.id) !== i) {
      v('transfer-on-wrong-shard', { id: t.id, shard: i, sourceShard: shardOf(t.from_account_id), idShard: shardOf(t.id) });
    }
    if (seen.has(t.id)) v('transfer-on-two-shards', { id: t.id });
    seen.add(t.id);
  }
  for (const p of shard.payments) {
    if (shardOf(p.account_id) !== i) v('payment-on-wrong-shard', { order: p.order_id, shard: i, expected: shardOf(p.account_id) });
    if (p.state === 'FROZEN') v('hold-left', { order: p.order_id, account: p.account_id, shard: i, amount: Number(p.amount) });
  }
}

function checkConservation({ initialTotals, seed }, totals, v) {
  for (const c of new Set([...Object.keys(initialTotals), ...Object.keys(totals)])) {
    if ((totals[c] ?? 0) !== (initialTotals[c] ?? 0)) v('money-not-conserved', { currency: c, initial: initialTotals[c], final: totals[c], diff: (totals[c] ?? 0) - (initialTotals[c] ?? 0) });
  }
  for (const [c, t] of Object.entries(seed.seededTotals)) if (initialTotals[c] !== t) v('seed-mismatch', { currency: c, seeded: t, measured: initialTotals[c] });
}

export default {
  name: 'ledger',
  check(state, v, summary) {
    const totals = {};
    const accountsSeen = new Map();
    const transfersSeen = new Set();
    summary.shards = {};
    summary.xaPrepared = {};
    for (const shard of state.shards) {
      const i = shard.index;
      for (const a of shard.accounts) if (Number(a.pending) !== 0) v('pending-left', { account: a.id, shard: i, pending: Number(a.pending) });
      summary.xaPrepared[shard.db] = shard.xaPrepared.length;
      for (const x of shard.xaPrepared) v('xa-prepared-left', { shard: i, xid: Buffer.from(x.data).toString() });
      const perShard = { accounts: shard.accounts.length, totals: checkAccounts(shard, state.shardOf, accountsSeen, v) };
      for (const [c, t] of Object.entries(perShard.totals)) totals[c] = (totals[c] ?? 0) + t;
      checkEntries(shard, v);
      checkTransfersAndPayments(shard, state.shardOf, transfersSeen, v);
      perShard.transfers = shard.transfers.length;
      perShard.payments = Object.fromEntries([...groupBy(shard.payments, 'state')].map(([k, l]) => [k, l.length]));
      summary.shards[shard.db] = perShard;
    }
    summary.totals = { initial: state.initialTotals, final: totals };
    checkConservation(state, totals, v);
    summary.accounts = Object.fromEntries([...state.accounts].map(([id, a]) => [id, { shard: a.shard, currency: a.currency, balance: a.balance, frozen: a.frozen }]));
  },
};
