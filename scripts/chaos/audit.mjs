// The audit after quiescence, per domain database and across the ledger shards (mysql2 directly), and from the API:
// - ledger (every shard): money per currency conserved over all shards to the cent (balance + frozen, merchant
//   accounts included); nothing negative; nothing frozen and no payment hold left; every account on the shard its id
//   maps to, its ledger entries (on that shard) summing to its balance; every transfer row on its source's shard;
//   nothing pending (TCC transfers) and no prepared XA transaction on any server (XA RECOVER empty);
// - transfers by mode: saga (debit → credit, or refunded), tcc (held → confirmed, or cancelled), xa (both branches
//   committed, or nothing written and both branches blocked by their rollback's barrier rows);
// - inventory: nothing reserved, stock = initial − units of CONFIRMED orders;
// - loyalty: exactly one points row per CONFIRMED order with the right amount, none for cancelled ones;
// - orders: every flow the load started ended terminal (COMPLETED/COMPENSATED, CONFIRMED/CANCELLED) and its row says
//   the same; its effects match its outcome on every database it touched;
// - barriers (every domain database): one row per branch operation that ran, in the database of the branch's owner,
//   and only the combinations the barrier can produce (applied, undone, null compensation), matching the effects;
// - events: every outbox row (every domain database) published; one points award per CONFIRMED order (the loyalty
//   consumer's, from order.confirmed); nothing in the dead-letter table but the injected poison, and all of it there.
// - Temporal holds no running flow.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { APPROVAL_THRESHOLD } from './load.mjs';
import { noDoublePay } from './invariants/no-double-pay.mjs';

const POINTS_PER = 100;

function groupBy(rows, key) {
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

/** State of a saga branch from its barrier rows ({ op: reason }). */
function sagaState(ops) {
  const k = Object.entries(ops).map(([op, reason]) => `${op}<-${reason}`).sort().join(',');
  return (
    {
      '': 'none',
      'action<-action': 'done',
      'action<-action,compensate<-compensate': 'undone',
      'action<-compensate,compensate<-compensate': 'null-compensated',
    }[k] ?? `invalid(${k})`
  );
}

/** State of a TCC branch from its barrier rows. */
function tccState(ops) {
  const k = Object.entries(ops).map(([op, reason]) => `${op}<-${reason}`).sort().join(',');
  return (
    {
      '': 'none',
      'try<-try': 'tried',
      'confirm<-confirm,try<-try': 'confirmed',
      'cancel<-cancel,try<-try': 'cancelled',
      'cancel<-cancel,try<-cancel': 'null-cancelled',
    }[k] ?? `invalid(${k})`
  );
}

async function connect(uri) {
  const mysql = await import('mysql2/promise');
  return mysql.createConnection({ uri, supportBigNumbers: true, bigNumberStrings: false, decimalNumbers: true });
}

/** Money per currency over every ledger shard (balance + frozen). */
export async function snapshotTotals(ledgerUrls) {
  const totals = {};
  for (const url of ledgerUrls) {
    const conn = await connect(url);
    try {
      const [rows] = await conn.query('SELECT currency, SUM(balance + frozen) AS total FROM accounts GROUP BY currency');
      for (const r of rows) totals[r.currency] = (totals[r.currency] ?? 0) + Number(r.total);
    } finally {
      await conn.end();
    }
  }
  return totals;
}

export async function audit({ urls, shardOf, flows, seed, initialTotals, rec, api, temporal, poison = [] }) {
  const v = (kind, detail) => rec.violation(kind, detail);
  const conns = {};
  const summary = {};
  try {
    urls.ledger.forEach((u, i) => (conns[`ledger-${i}`] = u));
    Object.assign(conns, { inventory: urls.inventory, orders: urls.orders, loyalty: urls.loyalty });
    for (const [k, u] of Object.entries(conns)) conns[k] = await connect(u);
    const q = async (db, sql, args = []) => (await conns[db].query(sql, args))[0];
    const shards = urls.ledger.map((_, i) => i);
    const ledgerDb = (i) => `ledger-${i}`;

    // ---------- ledger, per shard and over all shards ----------
    const accounts = new Map(); // id → { shard, balance, frozen, currency }
    const totals = {};
    const entriesByFlow = new Map();
    const transfers = new Map(); // id → row (with .shard)
    const payments = new Map(); // order id → row (with .shard)
    summary.shards = {};
    const perShardPrepared = {};
    summary.xaPrepared = perShardPrepared;
    for (const i of shards) {
      const db = ledgerDb(i);
      const rows = await q(db, 'SELECT id, currency, balance, frozen, pending FROM accounts');
      for (const a of rows) if (Number(a.pending) !== 0) v('pending-left', { account: a.id, shard: i, pending: Number(a.pending) });
      // XA RECOVER lists the whole server's prepared transactions: after quiescence there must be none.
      const prepared = await q(db, 'XA RECOVER');
      perShardPrepared[db] = prepared.length;
      for (const x of prepared) v('xa-prepared-left', { shard: i, xid: Buffer.from(x.data).toString() });
      const perShard = { accounts: rows.length, totals: {} };
      for (const a of rows) {
        const balance = Number(a.balance);
        const frozen = Number(a.frozen);
        if (shardOf(a.id) !== i) v('account-on-wrong-shard', { account: a.id, shard: i, expected: shardOf(a.id) });
        if (accounts.has(a.id)) v('account-on-two-shards', { account: a.id, shards: [accounts.get(a.id).shard, i] });
        accounts.set(a.id, { shard: i, balance, frozen, currency: a.currency });
        totals[a.currency] = (totals[a.currency] ?? 0) + balance + frozen;
        perShard.totals[a.currency] = (perShard.totals[a.currency] ?? 0) + balance + frozen;
        if (balance < 0 || frozen < 0) v('negative-account', { account: a.id, shard: i, balance, frozen });
        else if (frozen !== 0) v('frozen-left', { account: a.id, shard: i, balance, frozen });
      }
      // Every account's ledger (on its shard) sums to its balance; no entry for an account the shard does not hold.
      const ledgerOff = await q(
        db,
        `SELECT a.id, a.balance, COALESCE(SUM(l.amount), 0) AS ledger FROM accounts a LEFT JOIN ledger_entries l ON l.account_id = a.id
          GROUP BY a.id, a.balance HAVING ledger <> a.balance`,
      );
      for (const r of ledgerOff) v('ledger-mismatch', { account: r.id, shard: i, balance: Number(r.balance), ledger: Number(r.ledger) });
      const strays = await q(db, 'SELECT l.account_id, COUNT(*) AS n FROM ledger_entries l LEFT JOIN accounts a ON a.id = l.account_id WHERE a.id IS NULL GROUP BY l.account_id');
      for (const r of strays) v('entry-without-account', { account: r.account_id, shard: i, entries: Number(r.n) });
      for (const r of await q(db, 'SELECT flow_id, step, account_id, COUNT(*) AS n FROM ledger_entries GROUP BY flow_id, step, account_id HAVING n > 1')) {
        v('duplicate-movement', { flow: r.flow_id, step: r.step, account: r.account_id, shard: i, n: Number(r.n) });
      }
      for (const e of await q(db, `SELECT flow_id, step, account_id, amount FROM ledger_entries WHERE kind <> 'opening'`)) {
        if (!entriesByFlow.has(e.flow_id)) entriesByFlow.set(e.flow_id, []);
        entriesByFlow.get(e.flow_id).push({ ...e, shard: i });
      }
      // A transfer's row lives on its source account's shard, and its id hashes there too.
      const tRows = await q(db, 'SELECT * FROM transfers');
      perShard.transfers = tRows.length;
      for (const t of tRows) {
        if (shardOf(t.from_account_id) !== i || shardOf(t.id) !== i) {
          v('transfer-on-wrong-shard', { id: t.id, shard: i, sourceShard: shardOf(t.from_account_id), idShard: shardOf(t.id) });
        }
        if (transfers.has(t.id)) v('transfer-on-two-shards', { id: t.id });
        transfers.set(t.id, { ...t, shard: i });
      }
      const pRows = await q(db, 'SELECT * FROM payments');
      perShard.payments = Object.fromEntries([...groupBy(pRows, 'state')].map(([k, l]) => [k, l.length]));
      for (const p of pRows) {
        if (shardOf(p.account_id) !== i) v('payment-on-wrong-shard', { order: p.order_id, shard: i, expected: shardOf(p.account_id) });
        if (p.state === 'FROZEN') v('hold-left', { order: p.order_id, account: p.account_id, shard: i, amount: Number(p.amount) });
        payments.set(p.order_id, { ...p, shard: i });
      }
      summary.shards[db] = perShard;
    }
    for (const x of noDoublePay({ entriesByFlow })) v(x.kind, x.detail);
    summary.totals = { initial: initialTotals, final: totals };
    for (const c of new Set([...Object.keys(initialTotals), ...Object.keys(totals)])) {
      if ((totals[c] ?? 0) !== (initialTotals[c] ?? 0)) v('money-not-conserved', { currency: c, initial: initialTotals[c], final: totals[c], diff: (totals[c] ?? 0) - (initialTotals[c] ?? 0) });
    }
    for (const [c, t] of Object.entries(seed.seededTotals)) if (initialTotals[c] !== t) v('seed-mismatch', { currency: c, seeded: t, measured: initialTotals[c] });

    // ---------- inventory, orders, loyalty ----------
    const products = await q('inventory', 'SELECT sku, stock, reserved FROM products');
    for (const p of products) {
      if (p.stock < 0 || p.reserved < 0 || p.reserved > p.stock) v('negative-stock', { sku: p.sku, stock: p.stock, reserved: p.reserved });
      else if (p.reserved !== 0) v('reserved-left', { sku: p.sku, reserved: p.reserved });
    }
    const orders = new Map((await q('orders', 'SELECT * FROM orders')).map((r) => [r.id, r]));
    const items = groupBy(await q('orders', 'SELECT order_id, line_no, sku, quantity, price FROM order_items ORDER BY order_id, line_no'), 'order_id');
    const pointRows = await q('loyalty', `SELECT order_id, customer_id, points FROM points_entries WHERE kind = 'award'`);
    const points = groupBy(pointRows, 'order_id');

    // ---------- barriers, from every domain database ----------
    const barriers = new Map(); // flow id → Map(`${db}|${branch}` → { op: reason })
    summary.barriers = {};
    for (const db of Object.keys(conns)) {
      const rows = await q(db, 'SELECT flow_id, branch_id, op, reason FROM barriers');
      const cases = {};
      for (const r of rows) {
        cases[`${r.op}<-${r.reason}`] = (cases[`${r.op}<-${r.reason}`] ?? 0) + 1;
        if (!barriers.has(r.flow_id)) barriers.set(r.flow_id, new Map());
        const byBranch = barriers.get(r.flow_id);
        const key = `${db}|${r.branch_id}`;
        if (!byBranch.has(key)) byBranch.set(key, {});
        const ops = byBranch.get(key);
        if (ops[r.op]) v('duplicate-barrier', { db, flow: r.flow_id, branch: r.branch_id, op: r.op });
        ops[r.op] = r.reason;
      }
      summary.barriers[db] = Object.fromEntries(Object.entries(cases).sort());
    }

    // ---------- every flow the load started ----------
    const outcome = {};
    const bump = (k) => (outcome[k] = (outcome[k] ?? 0) + 1);
    const confirmedQty = {};
    const expectedPoints = {};
    const knownWorkflows = new Set();
    for (const f of flows.values()) {
      const wf = `${f.type}-${f.id}`;
      knownWorkflows.add(wf);
      bump(`${f.kind}${f.body?.consistency ? `/${f.body.consistency}` : ''}:${f.status}${f.reasonCode ? `:${f.reasonCode}` : ''}`);
      const ctx = { id: f.id, kind: f.kind, status: f.status, reason: f.reasonCode };
      if (!f.status || !['COMPLETED', 'COMPENSATED', 'CONFIRMED', 'CANCELLED'].includes(f.status)) {
        v(f.status === 'FAILED' ? 'flow-failed' : 'flow-not-terminal', ctx);
        continue;
      }
      if (f.reasonCode === 'DependencyUnavailable') v('gave-up-on-dependency', ctx);
      const branches = barriers.get(wf) ?? new Map();
      const m = movements(entriesByFlow.get(wf));
      if (f.type === 'transfer') {
        checkTransfer(f, transfers.get(f.id), m, v, ctx, shardOf);
        checkTransferBarriers(f, branches, m, v, ctx, shardOf);
      } else {
        const o = orders.get(f.id);
        const lines = items.get(f.id) ?? [];
        checkOrder(f, o, lines, payments.get(f.id), points.get(f.id) ?? [], m, seed, v, ctx, shardOf);
        checkOrderBarriers(f, o, branches, payments.get(f.id), v, ctx, shardOf, seed);
        if (o?.status === 'CONFIRMED') {
          for (const i of lines) confirmedQty[i.sku] = (confirmedQty[i.sku] ?? 0) + i.quantity;
          expectedPoints[o.customer_id] = (expectedPoints[o.customer_id] ?? 0) + Math.floor(Number(o.total) / POINTS_PER);
        }
      }
    }
    summary.outcomes = Object.fromEntries(Object.entries(outcome).sort());

    // Rows that no accepted POST accounts for: a second flow for one Idempotency-Key, or a lost answer.
    for (const [id, t] of transfers) if (!flows.has(id)) v('orphan-flow', { type: 'transfer', id, status: t.status, shard: t.shard });
    for (const [id, o] of orders) if (!flows.has(id)) v('orphan-flow', { type: 'order', id, status: o.status });
    for (const id of points.keys()) if (!flows.has(id)) v('orphan-points', { order: id });
    for (const [wf, byBranch] of barriers) if (!knownWorkflows.has(wf)) v('orphan-barrier', { flow: wf, branches: [...byBranch.keys()] });
    for (const wf of entriesByFlow.keys()) if (!knownWorkflows.has(wf)) v('orphan-movement', { flow: wf });

    // Stock: initial − confirmed quantities, nothing reserved.
    summary.stock = {};
    for (const p of products) {
      const expected = (seed.initialStock[p.sku] ?? 0) - (confirmedQty[p.sku] ?? 0);
      summary.stock[p.sku] = { initial: seed.initialStock[p.sku], confirmed: confirmedQty[p.sku] ?? 0, stock: p.stock, reserved: p.reserved };
      if (p.stock !== expected) v('stock-mismatch', { sku: p.sku, expected, actual: p.stock });
    }
    summary.points = { rows: pointRows.length, total: pointRows.reduce((s, r) => s + Number(r.points), 0) };

    // ---------- events: outboxes drained, dead letters = the injected poison ----------
    summary.events = { outbox: {}, poison: poison.length };
    for (const db of Object.keys(conns)) {
      const [row] = await q(db, 'SELECT COUNT(*) AS n, SUM(published_at IS NULL) AS unpublished FROM outbox');
      summary.events.outbox[db] = { rows: Number(row.n), unpublished: Number(row.unpublished ?? 0) };
      if (Number(row.unpublished ?? 0) > 0) v('outbox-unpublished', { db, unpublished: Number(row.unpublished) });
    }
    const apiDb = await connect(urls.api);
    try {
      const dead = (await apiDb.query('SELECT consumer, event_id, error FROM dead_letters'))[0];
      summary.events.deadLetters = dead.length;
      const injected = new Set(poison);
      for (const d of dead) if (!injected.has(d.event_id)) v('unexpected-dead-letter', { consumer: d.consumer, eventId: d.event_id, error: d.error });
      const deadIds = new Set(dead.map((d) => d.event_id));
      for (const id of poison) if (!deadIds.has(id)) v('poison-not-dead-lettered', { eventId: id });
    } finally {
      await apiDb.end().catch(() => undefined);
    }

    // The API agrees with the databases: points per customer, and every seeded account (each read on its shard).
    const customers = new Set([...flows.values()].filter((f) => f.type === 'order').map((f) => f.body.customerId));
    for (const c of customers) {
      const r = await api.untilAnswered('GET', `/v1/customers/${c}/points`, { route: 'GET /v1/customers/:id/points' });
      if (r.status !== 200 || r.body.data.balance !== (expectedPoints[c] ?? 0)) v('points-mismatch', { customer: c, status: r.status, api: r.body?.data?.balance, expected: expectedPoints[c] ?? 0 });
    }
    const merchantIds = [...accounts.keys()].filter((id) => id.startsWith('merchant-'));
    for (const id of [...seed.hot, ...seed.eur, ...merchantIds]) {
      const r = await api.untilAnswered('GET', `/v1/accounts/${id}`, { route: 'GET /v1/accounts/:id' });
      const a = accounts.get(id);
      if (r.status !== 200 || !a || r.body.data.balance !== a.balance || r.body.data.frozen !== a.frozen) {
        v('account-view-mismatch', { id, status: r.status, api: r.body?.data, db: a && { balance: a.balance, frozen: a.frozen, shard: a.shard } });
      }
    }
    // The merchant's takings: the sum of its USD (sub-)accounts, on whichever shard each lives.
    const takings = merchantIds.filter((id) => accounts.get(id).currency === 'USD').reduce((s, id) => s + accounts.get(id).balance, 0);
    const mr = await api.untilAnswered('GET', '/v1/merchants/merchant/balance?currency=USD', { route: 'GET /v1/merchants/:id/balance' });
    summary.merchant = { USD: takings, subAccounts: merchantIds.length };
    if (mr.status !== 200 || mr.body.data.balance !== takings) v('merchant-balance-mismatch', { status: mr.status, api: mr.body?.data?.balance, db: takings });
    summary.accounts = Object.fromEntries([...accounts].map(([id, a]) => [id, { shard: a.shard, currency: a.currency, balance: a.balance, frozen: a.frozen }]));
  } finally {
    for (const c of Object.values(conns)) if (c?.end) await c.end().catch(() => undefined);
  }

  // Temporal: no flow still running once every accepted flow is terminal.
  // (A flow's last database write precedes its completion by one workflow task: allow a few seconds.)
  for (let i = 0; i < 30; i++) {
    summary.temporalRunning = await countRunning(temporal);
    if (summary.temporalRunning === 0) break;
    await sleep(1_000);
  }
  if (summary.temporalRunning !== 0) v('temporal-running-flows', { running: summary.temporalRunning });
  return summary;
}

function checkTransfer(f, row, { net, steps }, v, ctx, shardOf) {
  if (!row) return v('transfer-row-missing', ctx);
  if (row.status !== f.status) v('status-mismatch', { ...ctx, db: row.status });
  const b = f.body;
  if (row.from_account_id !== b.fromAccountId || row.to_account_id !== b.toAccountId || Number(row.amount) !== b.amount) v('transfer-row-differs', ctx);
  if (row.shard !== shardOf(b.fromAccountId)) v('transfer-on-wrong-shard', { ...ctx, shard: row.shard });
  const names = Object.keys(steps).sort().join(',');
  const mode = b.consistency ?? 'saga';
  if (mode !== 'saga') {
    checkTransferMode(f, mode, { net, steps }, names, v, ctx);
  } else if (f.status === 'COMPLETED') {
    const ok = names === 'credit,debit' && net[b.fromAccountId] === -b.amount && net[b.toAccountId] === b.amount;
    if (!ok) v('transfer-effects', { ...ctx, steps: names, net });
  } else {
    // The credit is the pivot: a compensated transfer was never credited (nor reversed), its debit refunded.
    const bad = Object.values(net).some((x) => x !== 0) || !!steps.debit !== !!steps['refund-debit'] || !!steps.credit || !!steps['reverse-credit'];
    if (bad) v('transfer-effects', { ...ctx, steps: names, net });
    if (f.reasonCode !== 'InsufficientFunds' && !(f.cancelRequested && f.reasonCode === 'Cancelled')) v('unexpected-compensation', ctx);
  }
  for (const e of Object.values(steps)) if (e.shard !== shardOf(e.account_id)) v('movement-on-wrong-shard', { ...ctx, step: e.step, shard: e.shard });
  if (f.kind === 'transfer-huge' && f.status !== 'COMPENSATED') v('expected-insufficient-funds', ctx);
}

/**
 * Checks a flow's barrier rows against what its branches must have left: every expected (database, branch) in an
 * allowed state, nothing elsewhere. `expect` maps `${db}|${branch}` → { kind: 'saga'|'tcc', allowed: [...] }.
 */
function checkBranches(branches, expect, v, ctx) {
  const states = {};
  for (const [key, e] of Object.entries(expect)) {
    const state = (e.kind === 'tcc' ? tccState : sagaState)(branches.get(key) ?? {});
    states[key] = state;
    if (!e.allowed.includes(state)) v('barrier-state', { ...ctx, branch: key, state, allowed: e.allowed });
  }
  for (const key of branches.keys()) if (!(key in expect)) v('barrier-unexpected', { ...ctx, branch: key, ops: branches.get(key) });
  return states;
}

/** A tcc or xa transfer's ledger entries: tcc holds (tcc-hold) then confirms (tcc-confirm) or cancels (tcc-cancel);
 * xa writes its debit and credit together (xa-debit, xa-credit) or nothing at all. */
function checkTransferMode(f, mode, { net, steps }, names, v, ctx) {
  const b = f.body;
  const moved = net[b.fromAccountId] === -b.amount && net[b.toAccountId] === b.amount;
  const still = Object.values(net).every((x) => x === 0);
  const ok =
    f.status === 'COMPLETED'
      ? moved && names === (mode === 'tcc' ? 'tcc-confirm,tcc-hold' : 'xa-credit,xa-debit')
      : still && (mode === 'tcc' ? !steps['tcc-confirm'] && !!steps['tcc-hold'] === !!steps['tcc-cancel'] : names === '');
  if (!ok) v('transfer-effects', { ...ctx, mode, steps: names, net });
  if (f.status !== 'COMPLETED' && f.reasonCode !== 'InsufficientFunds') v('unexpected-compensation', { ...ctx, mode });
}

function checkTransferBarriers(f, branches, { steps }, v, ctx, shardOf) {
  const mode = f.body.consistency ?? 'saga';
  if (mode === 'tcc') {
    const src = `ledger-${shardOf(f.body.fromAccountId)}|tcc-from`;
    const dst = `ledger-${shardOf(f.body.toAccountId)}|tcc-to`;
    const allowed = f.status === 'COMPLETED' ? ['confirmed'] : ['none', 'cancelled', 'null-cancelled'];
    const s = checkBranches(branches, { [src]: { kind: 'tcc', allowed }, [dst]: { kind: 'tcc', allowed } }, v, ctx);
    if ((s[src] === 'confirmed' || s[src] === 'cancelled') !== !!steps['tcc-hold']) v('barrier-effect-mismatch', { ...ctx, branch: src, state: s[src], steps: Object.keys(steps) });
    return;
  }
  if (mode === 'xa') {
    // A committed branch keeps its `try` row (written inside the branch); a rolled-back one has the rollback's rows.
    const [from, to] = [shardOf(f.body.fromAccountId), shardOf(f.body.toAccountId)];
    const keys = from === to ? [`ledger-${from}|xa-both`] : [`ledger-${from}|xa-from`, `ledger-${to}|xa-to`];
    const allowed = f.status === 'COMPLETED' ? ['tried'] : ['none', 'null-cancelled'];
    checkBranches(branches, Object.fromEntries(keys.map((k) => [k, { kind: 'tcc', allowed }])), v, ctx);
    return;
  }
  const src = `ledger-${shardOf(f.body.fromAccountId)}|debit`;
  const dst = `ledger-${shardOf(f.body.toAccountId)}|credit`;
  // The debit is compensable (refunded, or a null compensation when it never committed); the credit is the pivot: it
  // happened (COMPLETED) or was rejected (COMPENSATED: no row at all), and is never reversed.
  const expect =
    f.status === 'COMPLETED'
      ? { [src]: { kind: 'saga', allowed: ['done'] }, [dst]: { kind: 'saga', allowed: ['done'] } }
      : { [src]: { kind: 'saga', allowed: ['undone', 'null-compensated'] }, [dst]: { kind: 'saga', allowed: ['none'] } };
  const s = checkBranches(branches, expect, v, ctx);
  // The barrier and the ledger agree: a forward row written by the step itself ⇔ its entry; an undo ⇔ its entry.
  const ran = (st) => st === 'done' || st === 'undone';
  if (ran(s[src]) !== !!steps.debit || (s[src] === 'undone') !== !!steps['refund-debit']) v('barrier-effect-mismatch', { ...ctx, branch: src, state: s[src], steps: Object.keys(steps) });
  if (ran(s[dst]) !== !!steps.credit || (s[dst] === 'undone') !== !!steps['reverse-credit']) v('barrier-effect-mismatch', { ...ctx, branch: dst, state: s[dst], steps: Object.keys(steps) });
}

function checkOrderBarriers(f, o, branches, pay, v, ctx, shardOf, seed) {
  const confirmed = f.status === 'CONFIRMED';
  const cancelledStates = ['none', 'cancelled', 'null-cancelled'];
  const payKey = `ledger-${shardOf(f.body.paymentAccountId)}|payment`;
  const merchantKey = `ledger-${shardOf(seed.merchantOf(f.id))}|merchant-credit`;
  const stockKeys = f.body.items.map((_, i) => `inventory|stock-${i + 1}`);
  const expect = {
    // An order refused before pricing has its row (unpriced, CANCELLED) but was never created by the barrier-guarded step.
    'orders|create': { kind: 'saga', allowed: o && o.total != null ? ['done'] : ['none'] },
    'orders|confirm': { kind: 'saga', allowed: [confirmed ? 'done' : 'none'] },
    [payKey]: { kind: 'tcc', allowed: confirmed ? ['confirmed'] : cancelledStates },
    [merchantKey]: { kind: 'saga', allowed: [confirmed ? 'done' : 'none'] },
    // Points follow order.confirmed now (no barrier); a run started before that awarded them as a saga step.
    'loyalty|points': { kind: 'saga', allowed: confirmed ? ['none', 'done'] : ['none'] },
  };
  for (const k of stockKeys) expect[k] = { kind: 'tcc', allowed: confirmed ? ['confirmed'] : cancelledStates };
  const s = checkBranches(branches, expect, v, ctx);
  // Every stock line was tried (or cancelled) together, or none was: the TCC registers all of them at once.
  const stockNone = stockKeys.filter((k) => s[k] === 'none').length;
  if (stockNone !== 0 && stockNone !== stockKeys.length) v('barrier-partial-tcc', { ...ctx, stock: stockKeys.map((k) => s[k]) });
  // The payment hold row exists exactly when the try took effect, in the state its branch ended in.
  const wantPayment = { confirmed: 'CAPTURED', cancelled: 'RELEASED', tried: 'FROZEN' }[s[payKey]];
  if ((pay?.state ?? undefined) !== wantPayment) v('barrier-effect-mismatch', { ...ctx, branch: payKey, state: s[payKey], payment: pay?.state ?? null });
}

function checkOrder(f, o, items, pay, pts, { net, steps }, seed, v, ctx, shardOf) {
  if (!o) return v('order-row-missing', ctx);
  if (o.status !== f.status) v('status-mismatch', { ...ctx, db: o.status });
  const unpriced = o.total == null;
  if (unpriced && f.status !== 'CANCELLED') v('unpriced-order', { ...ctx, db: o.status });
  const total = Number(o.total ?? 0);
  const lines = items.map((i) => `${i.sku}x${i.quantity}`).join(',');
  const priceSum = items.reduce((s, i) => s + Number(i.price ?? 0) * i.quantity, 0);
  if (lines !== f.body.items.map((i) => `${i.sku}x${i.quantity}`).join(',') || (!unpriced && priceSum !== total) || (unpriced && items.some((i) => i.price != null))) {
    v('order-lines-differ', { ...ctx, lines });
  }
  for (const e of Object.values(steps)) if (e.shard !== shardOf(e.account_id)) v('movement-on-wrong-shard', { ...ctx, step: e.step, shard: e.shard });
  const names = Object.keys(steps).sort().join(',');
  if (f.status === 'CONFIRMED') {
    if (!pay || pay.state !== 'CAPTURED' || Number(pay.amount) !== total) v('payment-not-captured', { ...ctx, payment: pay?.state });
    const ok = names === 'merchant-credit,payment-try' && net[f.body.paymentAccountId] === -total && net[seed.merchantOf(f.id)] === total;
    if (!ok) v('order-effects', { ...ctx, steps: names, net });
    if (pts.length !== 1 || Number(pts[0].points) !== Math.floor(total / POINTS_PER) || pts[0].customer_id !== f.body.customerId) v('points-not-awarded', { ...ctx, points: pts });
    const approved = f.action === 'approve' && (f.actionStatus === 202 || f.actionUncertain);
    if (total > APPROVAL_THRESHOLD && !approved) v('confirmed-without-approval', { ...ctx, total, action: f.action, actionStatus: f.actionStatus });
    if (f.kind === 'order-oos') v('expected-out-of-stock', ctx);
    if (f.actionStatus === 202 && f.action !== 'approve') v('cancel-accepted-but-confirmed', { ...ctx, action: f.action });
  } else {
    if (pay && pay.state !== 'RELEASED') v('payment-not-released', { ...ctx, payment: pay.state });
    if (Object.values(net).some((x) => x !== 0) || steps['merchant-credit'] || !!steps['payment-try'] !== !!steps['payment-cancel']) v('order-effects', { ...ctx, steps: names, net });
    if (pts.length) v('points-on-cancelled-order', { ...ctx, points: pts });
    const allowed = ['OutOfStock', 'InsufficientFunds'];
    if (f.action === 'cancel' || f.action === 'cancel-early') allowed.push('OrderCancelled');
    if (f.action === 'timeout' || f.action === 'approve' || f.action === 'cancel') allowed.push('ApprovalTimedOut');
    if (!allowed.includes(f.reasonCode)) v('unexpected-cancel-reason', { ...ctx, action: f.action, actionStatus: f.actionStatus });
    if (f.action === 'approve' && f.actionStatus === 202) v('approve-accepted-but-cancelled', ctx);
    if (f.action === 'timeout' && f.sawAwaitingApproval && f.reasonCode !== 'ApprovalTimedOut') v('expected-approval-timeout', ctx);
    if ((f.action === 'cancel' || f.action === 'cancel-early') && f.actionStatus === 202 && f.reasonCode !== 'OrderCancelled') v('cancel-accepted-not-honoured', ctx);
  }
}

function countRunning({ cli, address }) {
  return new Promise((resolve) => {
    execFile(cli, ['workflow', 'count', '--address', address, '--namespace', 'default', '--query', 'ExecutionStatus="Running"', '-o', 'json'], { timeout: 15_000 }, (err, stdout) => {
      if (err) return resolve(`error: ${err.message.slice(0, 200)}`);
      try {
        resolve(Number(JSON.parse(stdout).count ?? 0));
      } catch {
        resolve(`unparsable: ${stdout.slice(0, 200)}`);
      }
    });
  });
}
