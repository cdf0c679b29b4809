// One read-only look at every database after quiescence (mysql2 directly), as plain rows, and the indexes the
// invariants share: accounts, transfers and payments by id (each with the shard it was read on), ledger entries and
// barrier rows by flow, order lines and points by order, and the flows that ended with their movements. Nothing here
// judges: the invariants under ./invariants/ do, over the state this builds.
const TERMINAL = ['COMPLETED', 'COMPENSATED', 'CONFIRMED', 'CANCELLED'];
/** Loyalty's rule: one point per this many minor units of a confirmed order's total. */
export const POINTS_PER = 100;

export async function connect(uri) {
  const mysql = await import('mysql2/promise');
  return mysql.createConnection({ uri, supportBigNumbers: true, bigNumberStrings: false, decimalNumbers: true });
}

export function groupBy(rows, key) {
  const m = new Map();
  for (const r of rows) {
    const k = typeof key === 'function' ? key(r) : r[key];
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(r);
  }
  return m;
}

/** Net amount per account of a flow's ledger entries (over every shard), and its entries by step. */
function movements(entries = []) {
  const net = {};
  const steps = {};
  for (const e of entries) {
    net[e.account_id] = (net[e.account_id] ?? 0) + Number(e.amount);
    steps[e.step] = e;
  }
  return { net, steps };
}

/** What one ledger shard holds: its accounts, transfers, holds and movements, and what its server still has prepared. */
async function readLedgerShard(q, db, index) {
  return {
    index,
    db,
    accounts: await q(db, 'SELECT id, currency, balance, frozen, pending FROM accounts'),
    // XA RECOVER lists the whole server's prepared transactions.
    xaPrepared: await q(db, 'XA RECOVER'),
    // Every account whose ledger (on this shard) does not sum to its balance; entries of accounts the shard lacks.
    ledgerOff: await q(
      db,
      `SELECT a.id, a.balance, COALESCE(SUM(l.amount), 0) AS ledger FROM accounts a LEFT JOIN ledger_entries l ON l.account_id = a.id
          GROUP BY a.id, a.balance HAVING ledger <> a.balance`,
    ),
    strays: await q(db, 'SELECT l.account_id, COUNT(*) AS n FROM ledger_entries l LEFT JOIN accounts a ON a.id = l.account_id WHERE a.id IS NULL GROUP BY l.account_id'),
    duplicateMovements: await q(db, 'SELECT flow_id, step, account_id, COUNT(*) AS n FROM ledger_entries GROUP BY flow_id, step, account_id HAVING n > 1'),
    entries: await q(db, `SELECT flow_id, step, account_id, amount FROM ledger_entries WHERE kind <> 'opening'`),
    transfers: await q(db, 'SELECT * FROM transfers'),
    payments: await q(db, 'SELECT * FROM payments'),
  };
}

/** Reads every database once into plain rows; `reads` are the invariants' own queries ({ name, read(db) }). */
export async function takeSnapshot(urls, reads = []) {
  const named = {};
  urls.ledger.forEach((u, i) => (named[`ledger-${i}`] = u));
  Object.assign(named, { inventory: urls.inventory, orders: urls.orders, loyalty: urls.loyalty });
  const databases = Object.keys(named); // every service's database: barriers and outboxes live in each
  const conns = {};
  try {
    for (const [k, u] of Object.entries({ ...named, api: urls.api })) conns[k] = await connect(u);
    const q = async (db, sql, args = []) => (await conns[db].query(sql, args))[0];
    const snap = { databases, shards: [], barrierRows: {}, outbox: {}, reads: {} };
    for (let i = 0; i < urls.ledger.length; i++) snap.shards.push(await readLedgerShard(q, `ledger-${i}`, i));
    snap.products = await q('inventory', 'SELECT sku, stock, reserved FROM products');
    snap.orderRows = await q('orders', 'SELECT * FROM orders');
    snap.itemRows = await q('orders', 'SELECT order_id, line_no, sku, quantity, price FROM order_items ORDER BY order_id, line_no');
    snap.pointRows = await q('loyalty', `SELECT order_id, customer_id, points FROM points_entries WHERE kind = 'award'`);
    for (const db of databases) {
      snap.barrierRows[db] = await q(db, 'SELECT flow_id, branch_id, op, reason FROM barriers');
      [snap.outbox[db]] = await q(db, 'SELECT COUNT(*) AS n, SUM(published_at IS NULL) AS unpublished FROM outbox');
    }
    snap.deadLetters = await q('api', 'SELECT consumer, event_id, error FROM dead_letters');
    for (const r of reads) snap.reads[r.name] = await r.read({ query: q, databases, urls });
    return snap;
  } finally {
    for (const c of Object.values(conns)) await c.end().catch(() => undefined);
  }
}

/** Rows by id over every shard (a later shard's row wins; the ledger invariant reports a row on two shards). */
function indexLedger(snap) {
  const accounts = new Map(); // id → { shard, balance, frozen, currency }
  const entriesByFlow = new Map();
  const transfers = new Map(); // id → row (with .shard)
  const payments = new Map(); // order id → row (with .shard)
  for (const s of snap.shards) {
    for (const a of s.accounts) accounts.set(a.id, { shard: s.index, balance: Number(a.balance), frozen: Number(a.frozen), currency: a.currency });
    for (const e of s.entries) {
      if (!entriesByFlow.has(e.flow_id)) entriesByFlow.set(e.flow_id, []);
      entriesByFlow.get(e.flow_id).push({ ...e, shard: s.index });
    }
    for (const t of s.transfers) transfers.set(t.id, { ...t, shard: s.index });
    for (const p of s.payments) payments.set(p.order_id, { ...p, shard: s.index });
  }
  return { accounts, entriesByFlow, transfers, payments };
}

/** flow id → Map(`${db}|${branch}` → { op: reason }), over every service's database. */
function indexBarriers(snap) {
  const barriers = new Map();
  for (const db of snap.databases) {
    for (const r of snap.barrierRows[db]) {
      if (!barriers.has(r.flow_id)) barriers.set(r.flow_id, new Map());
      const byBranch = barriers.get(r.flow_id);
      const key = `${db}|${r.branch_id}`;
      if (!byBranch.has(key)) byBranch.set(key, {});
      byBranch.get(key)[r.op] = r.reason;
    }
  }
  return barriers;
}

/** The flows the load started that ended, each with what it left (movements, barrier rows), and what they add up to. */
function indexFlows(flows, { barriers, entriesByFlow, orders, items }) {
  const knownWorkflows = new Set();
  const ended = [];
  const confirmedQty = {};
  const expectedPoints = {};
  for (const f of flows.values()) {
    const wf = `${f.type}-${f.id}`;
    knownWorkflows.add(wf);
    if (!f.status || !TERMINAL.includes(f.status)) continue;
    const ctx = { id: f.id, kind: f.kind, status: f.status, reason: f.reasonCode };
    ended.push({ f, wf, ctx, branches: barriers.get(wf) ?? new Map(), movements: movements(entriesByFlow.get(wf)) });
    const o = f.type === 'transfer' ? undefined : orders.get(f.id);
    if (o?.status === 'CONFIRMED') {
      for (const i of items.get(f.id) ?? []) confirmedQty[i.sku] = (confirmedQty[i.sku] ?? 0) + i.quantity;
      expectedPoints[o.customer_id] = (expectedPoints[o.customer_id] ?? 0) + Math.floor(Number(o.total) / POINTS_PER);
    }
  }
  return { knownWorkflows, ended, confirmedQty, expectedPoints };
}

/** The plain state every invariant checks: the run's inputs, the snapshot's rows and the shared indexes. */
export function buildState(snap, inputs) {
  const byId = {
    ...indexLedger(snap),
    barriers: indexBarriers(snap),
    orders: new Map(snap.orderRows.map((r) => [r.id, r])),
    items: groupBy(snap.itemRows, 'order_id'),
    points: groupBy(snap.pointRows, 'order_id'),
  };
  return { ...inputs, ...snap, ...byId, ...indexFlows(inputs.flows, byId) };
}
