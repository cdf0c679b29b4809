// The bench's audit of the databases after the run: money conserved summed over both shards; on each shard every
// account's ledger sums to its balance and every account and ledger entry is on the shard its account id maps to;
// every transfer COMPLETED exactly once, its row on its source's shard, with one barrier row per branch (debit on the
// source's shard, credit on the destination's) and one ledger entry each (a scenario that marks its transfers with a
// memo of its own checks them itself: its `audit`); nothing held or pending and no prepared XA left; the rejection paths as expected; orders, stock, payments and
// the merchant's credit consistent with each other. Each check appends plain-text problems; none means passed.
import { log } from '../../scripts/lib/log.mjs';
import { waitFor } from '../../scripts/lib/procs.mjs';
import { BIG, INITIAL, ITEM, POOR } from './fixtures.mjs';
import { totalMoney } from './seed.mjs';
import { round } from './stats.mjs';

const cap = (list, n = 3) => (list.length > n ? [...list.slice(0, n), `… ${list.length - n} more`] : list);
const rows = async (sql, text, args = []) => (await sql.query(text, args))[0];

/** Waits until no transfer runs (no RUNNING row on any shard, no open transferMoney) and no order is PENDING. */
export async function settle({ client, ledgerSql, ordersSql }, timeoutMs) {
  await waitFor(
    'every transfer and order finished',
    async () => {
      for (const sql of ledgerSql) {
        const [[row]] = await sql.query(`SELECT COUNT(*) AS n FROM transfers WHERE status = 'RUNNING'`);
        if (Number(row.n) !== 0) return false;
      }
      const [[pending]] = await ordersSql.query(`SELECT COUNT(*) AS n FROM orders WHERE status = 'PENDING'`);
      if (Number(pending.n) !== 0) return false;
      return (await client.workflow.count(`WorkflowType IN ('transferMoney', 'transferBatch') AND ExecutionStatus = 'Running'`)).count === 0;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** Money over both shards, and the ledgers and placement per shard. */
async function checkMoneyAndLedgers({ ledgerSql, moneyAtStart, S, shardOf, SHARDS }, problems) {
  const money = await totalMoney(ledgerSql);
  const seeded = S.accounts * INITIAL + POOR;
  if (moneyAtStart.total !== seeded) problems.push(`seeded ${moneyAtStart.total}, expected ${seeded}`);
  if (money.total !== moneyAtStart.total) problems.push(`money not conserved: ${money.total} (by shard ${money.byShard.join(' + ')}) != ${moneyAtStart.total}`);
  for (const [s, sql] of ledgerSql.entries()) {
    const [off] = await rows(sql, `SELECT COUNT(*) AS n FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount) AS s FROM ledger_entries GROUP BY account_id) l ON l.account_id = a.id WHERE a.balance <> COALESCE(l.s, 0)`);
    if (Number(off.n) !== 0) problems.push(`shard ${s}: ${off.n} accounts whose ledger does not sum to the balance`);
    const [stray] = await rows(sql, 'SELECT COUNT(*) AS n FROM ledger_entries l LEFT JOIN accounts a ON a.id = l.account_id WHERE a.id IS NULL');
    if (Number(stray.n) !== 0) problems.push(`shard ${s}: ${stray.n} ledger entries of accounts not on this shard`);
    const misplaced = (await rows(sql, 'SELECT id FROM accounts')).filter((r) => shardOf(r.id, SHARDS) !== s).map((r) => r.id);
    if (misplaced.length) problems.push(`shard ${s}: accounts of another shard: ${cap(misplaced).join(', ')}`);
  }
  return money;
}

/**
 * Transfers: each exactly once, on its source's shard, COMPLETED. Those of a scenario that marks its transfers with a
 * `memo` of its own (the modes scenario: tcc/xa rows and barriers of their own) are returned apart, by memo, for that
 * scenario's `audit`.
 */
async function checkTransfers({ ledgerSql, shardOf, SHARDS, expected }, memos, problems) {
  const transfers = new Map();
  const owned = new Map(memos.map((m) => [m, new Map()]));
  const dupes = [];
  const wrongShard = [];
  for (const [s, sql] of ledgerSql.entries()) {
    for (const r of await rows(sql, `SELECT id, from_account_id AS f, to_account_id AS t, status, memo FROM transfers WHERE id NOT LIKE 'path-%'`)) {
      const memo = memos.find((m) => r.memo?.startsWith(m));
      if (memo) {
        owned.get(memo).set(r.id, r);
        continue;
      }
      if (transfers.has(r.id)) dupes.push(r.id);
      const src = shardOf(r.f, SHARDS);
      if (src !== s || shardOf(r.id, SHARDS) !== s) wrongShard.push(`${r.id} on ${s} (source ${r.f} on ${src})`);
      transfers.set(r.id, { ...r, src, dst: shardOf(r.t, SHARDS) });
    }
  }
  const byStatus = {};
  let crossShard = 0;
  for (const x of transfers.values()) {
    byStatus[x.status] = (byStatus[x.status] ?? 0) + 1;
    if (x.src !== x.dst) crossShard++;
  }
  if (transfers.size !== (byStatus.COMPLETED ?? 0)) problems.push(`transfers not all COMPLETED: ${JSON.stringify(byStatus)}`);
  if (dupes.length) problems.push(`${dupes.length} transfers with a row on two shards: ${cap(dupes).join(', ')}`);
  if (wrongShard.length) problems.push(`${wrongShard.length} transfer rows off their source's shard: ${cap(wrongShard).join('; ')}`);
  if (expected.httpCompleted > (byStatus.COMPLETED ?? 0)) problems.push(`API reported ${expected.httpCompleted} COMPLETED, the databases have ${byStatus.COMPLETED}`);
  return { transfers, owned, byStatus, crossShard };
}

/**
 * Per transfer: exactly the rows `want(transfer)` it should have (barrier rows or ledger entries, each as
 * `shard:what`), and none for flows without a transfer row. Returns how many rows were read.
 */
async function perFlow({ ledgerSql }, { transfers, owned }, { what, query, shape, want }, problems) {
  const found = new Map();
  let n = 0;
  for (const [s, sql] of ledgerSql.entries()) {
    for (const r of await rows(sql, query)) {
      const id = r.flow_id.slice('transfer-'.length);
      if (!found.has(id)) found.set(id, []);
      found.get(id).push(shape(s, r));
      n++;
    }
  }
  const bad = [];
  for (const [id, x] of transfers) {
    const got = (found.get(id) ?? []).sort().join(' ');
    const exp = want(x).sort().join(' ');
    if (got !== exp) bad.push(`${id}: ${got || 'none'} (expected ${exp})`);
  }
  const orphans = [...found.keys()].filter((id) => !transfers.has(id) && ![...owned.values()].some((m) => m.has(id)));
  if (bad.length) problems.push(`${bad.length} transfers with the wrong ${what}: ${cap(bad).join('; ')}`);
  if (orphans.length) problems.push(`${orphans.length} flows with ${what} but no transfer row: ${cap(orphans).join(', ')}`);
  return n;
}

const BARRIERS = {
  what: 'barrier rows',
  query: `SELECT flow_id, branch_id, op FROM barriers WHERE flow_id LIKE 'transfer-%' AND flow_id NOT LIKE 'transfer-path-%'`,
  shape: (s, r) => `${s}:${r.branch_id}/${r.op}`,
  want: (x) => [`${x.src}:debit/action`, `${x.dst}:credit/action`],
};
const ENTRIES = {
  what: 'ledger entries',
  query: `SELECT flow_id, step, account_id FROM ledger_entries WHERE flow_id LIKE 'transfer-%' AND flow_id NOT LIKE 'transfer-path-%'`,
  shape: (s, r) => `${s}:${r.step}/${r.account_id}`,
  want: (x) => [`${x.src}:debit/${x.f}`, `${x.dst}:credit/${x.t}`],
};

/** Nothing frozen or pending on any account but held payments, no prepared XA transaction left on any ledger server. */
async function checkHolds({ ledgerSql }, problems) {
  for (const [s, sql] of ledgerSql.entries()) {
    // Frozen money belongs to held payments only (the inflight scenario's orders awaiting approval hold theirs on
    // purpose); anything else frozen, or any pending credit, is a transfer hold left behind.
    const [[left]] = await sql.query(
      `SELECT COUNT(*) AS n FROM accounts a
         LEFT JOIN (SELECT account_id, SUM(amount) AS held FROM payments WHERE state = 'FROZEN' GROUP BY account_id) p ON p.account_id = a.id
        WHERE a.frozen <> COALESCE(p.held, 0) OR a.pending <> 0`,
    );
    if (Number(left.n)) problems.push(`shard ${s}: ${left.n} accounts with a transfer's money held or pending`);
    const [prepared] = await sql.query('XA RECOVER');
    if (prepared.length) problems.push(`shard ${s}'s server: ${prepared.length} prepared XA transactions left`);
  }
}

/** The rejection paths: their flows ended as expected, their rows (on the source's shard) say so, the refunds put the money back. */
async function checkPaths({ onShard, shardOf, SHARDS }, paths, problems) {
  for (const p of paths) {
    if (!p.ok) problems.push(`path ${p.path} ended ${p.status}/${p.reason}`);
    const [row] = await rows(onShard(p.from), 'SELECT status, reason_code FROM transfers WHERE id = ?', [p.id]);
    if (row?.status !== p.expected) problems.push(`path ${p.path} (${p.id}): row ${row?.status ?? 'missing'} on shard ${shardOf(p.from, SHARDS)}, expected ${p.expected}`);
  }
  const [poor] = await rows(onShard('path-poor'), `SELECT balance, frozen FROM accounts WHERE id = 'path-poor'`);
  const [eur] = await rows(onShard('path-eur'), `SELECT balance, frozen FROM accounts WHERE id = 'path-eur'`);
  if (Number(poor.balance) !== POOR || Number(eur.balance) !== 0) problems.push(`rejected transfers moved money: path-poor ${poor.balance}, path-eur ${eur.balance}`);
}

/** Orders (checkout: CONFIRMED; inflight: AWAITING_APPROVAL), against stock, payments and the merchant's credit. */
async function checkOrders({ ledgerSql, ordersSql, inventorySql, expected }, problems) {
  const orders = Object.fromEntries((await rows(ordersSql, 'SELECT status, COUNT(*) AS n, COALESCE(SUM(total), 0) AS total FROM orders GROUP BY status')).map((r) => [r.status, { n: Number(r.n), total: Number(r.total) }]));
  const ordersOf = (st) => orders[st] ?? { n: 0, total: 0 };
  const others = Object.keys(orders).filter((st) => st !== 'CONFIRMED' && st !== 'AWAITING_APPROVAL');
  if (others.length) problems.push(`orders neither CONFIRMED nor AWAITING_APPROVAL: ${JSON.stringify(orders)}`);
  if (ordersOf('AWAITING_APPROVAL').n !== expected.inflight) problems.push(`${ordersOf('AWAITING_APPROVAL').n} orders AWAITING_APPROVAL, ${expected.inflight} held`);
  if (expected.ordersConfirmed > ordersOf('CONFIRMED').n) problems.push(`API reported ${expected.ordersConfirmed} CONFIRMED, the orders database has ${ordersOf('CONFIRMED').n}`);
  const qty = async (st) =>
    Object.fromEntries((await rows(ordersSql, 'SELECT i.sku, SUM(i.quantity) AS q FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status = ? GROUP BY i.sku', [st])).map((r) => [r.sku, Number(r.q)]));
  const [sold, held] = [await qty('CONFIRMED'), await qty('AWAITING_APPROVAL')];
  for (const p of await rows(inventorySql, 'SELECT sku, stock, reserved FROM products')) {
    const initial = [BIG, ITEM].find((x) => x.sku === p.sku)?.stock;
    if (Number(p.stock) !== initial - (sold[p.sku] ?? 0) || Number(p.reserved) !== (held[p.sku] ?? 0)) {
      problems.push(`product ${p.sku}: stock ${p.stock} reserved ${p.reserved}, expected ${initial - (sold[p.sku] ?? 0)} / ${held[p.sku] ?? 0}`);
    }
  }
  const payments = {};
  for (const sql of ledgerSql) for (const r of await rows(sql, 'SELECT state, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS a FROM payments GROUP BY state')) {
    payments[r.state] = { n: (payments[r.state]?.n ?? 0) + Number(r.n), amount: (payments[r.state]?.amount ?? 0) + Number(r.a) };
  }
  if ((payments.CAPTURED?.n ?? 0) !== ordersOf('CONFIRMED').n || (payments.FROZEN?.n ?? 0) !== ordersOf('AWAITING_APPROVAL').n || payments.RELEASED) {
    problems.push(`payments ${JSON.stringify(payments)} for orders ${JSON.stringify(orders)}`);
  }
  // The merchant's sales, spread over its sub-accounts (MERCHANT_SUB_ACCOUNTS) on their shards: owner 'merchant'.
  let merchant = 0;
  for (const sql of ledgerSql) merchant += Number((await rows(sql, `SELECT COALESCE(SUM(balance + frozen), 0) AS m FROM accounts WHERE owner = 'merchant' AND currency = 'USD'`))[0].m);
  if (merchant !== ordersOf('CONFIRMED').total) problems.push(`the merchant's USD accounts hold ${merchant}, the confirmed orders total ${ordersOf('CONFIRMED').total}`);
  return { orders, payments };
}

/**
 * `ctx`: the running bench (SQL connections, client, shard rule, S, expected, moneyAtStart); `paths`: pathChecks';
 * `scenarios`: every registered scenario (run or not): those with a `memo` get their transfers to check in `audit`.
 */
export async function auditDb(ctx, paths, scenarios) {
  const problems = [];
  try {
    await settle(ctx, 180_000);
  } catch (err) {
    problems.push(err.message);
  }
  const money = await checkMoneyAndLedgers(ctx, problems);
  const own = scenarios.filter((s) => s.memo);
  const t = await checkTransfers(ctx, own.map((s) => s.memo), problems);
  const barrierRows = await perFlow(ctx, t, BARRIERS, problems);
  const entryRows = await perFlow(ctx, t, ENTRIES, problems);
  // A scenario without a memo whose flows live elsewhere (dev: its own stack) reports what it checked there.
  for (const s of scenarios.filter((x) => x.audit)) problems.push(...(await s.audit(ctx, s.memo ? t.owned.get(s.memo) : undefined)));
  await checkHolds(ctx, problems);
  await checkPaths(ctx, paths, problems);
  const { orders, payments } = await checkOrders(ctx, problems);
  const ok = problems.length === 0;
  const total = t.transfers.size;
  (ok ? log.info : log.error)(
    `bench: audit ${ok ? 'passed' : 'FAILED'}: ${total} transfers ${JSON.stringify(t.byStatus)} (${round(total ? t.crossShard / total : 0, 3)} cross-shard), ${barrierRows} barrier rows, orders ${JSON.stringify(orders)}${ok ? '' : `; ${problems.join('; ')}`}`,
  );
  const { moneyAtStart, expected } = ctx;
  return {
    ok,
    transfers: t.byStatus,
    cross_shard: total ? round(t.crossShard / total, 3) : null,
    barrier_rows: barrierRows,
    ledger_entries: entryRows,
    money: { at_start: moneyAtStart.total, at_end: money.total, by_shard_at_start: moneyAtStart.byShard, by_shard_at_end: money.byShard },
    http_completed: expected.httpCompleted,
    orders,
    orders_confirmed_by_api: expected.ordersConfirmed,
    payments,
    paths,
    problems,
  };
}
