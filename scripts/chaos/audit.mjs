// The audit after quiescence, from the database (mysql2 directly) and the API: money is conserved to the cent, nothing
// is negative, every movement happened once, every accepted flow is terminal and its effects match its outcome, the
// stock matches the confirmed orders, and Temporal holds no running flow.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { APPROVAL_THRESHOLD } from './load.mjs';

const POINTS_PER = 100;

function groupBy(rows, key) {
  const m = new Map();
  for (const r of rows) {
    const k = r[key];
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(r);
  }
  return m;
}

/** Net amount per account of a flow's ledger entries, and the set of its steps. */
function movements(entries = []) {
  const net = {};
  const steps = {};
  for (const e of entries) {
    net[e.account_id] = (net[e.account_id] ?? 0) + Number(e.amount);
    steps[e.step] = e;
  }
  return { net, steps };
}

export async function snapshotTotals(databaseUrl) {
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ uri: databaseUrl, supportBigNumbers: true, bigNumberStrings: false });
  try {
    const [rows] = await conn.query('SELECT currency, SUM(balance + frozen) AS total FROM accounts GROUP BY currency');
    return Object.fromEntries(rows.map((r) => [r.currency, Number(r.total)]));
  } finally {
    await conn.end();
  }
}

export async function audit({ databaseUrl, flows, seed, initialTotals, rec, api, temporal }) {
  const v = (kind, detail) => rec.violation(kind, detail);
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ uri: databaseUrl, supportBigNumbers: true, bigNumberStrings: false, decimalNumbers: true });
  const q = async (sql, args = []) => (await conn.query(sql, args))[0];
  const summary = {};
  try {
    // Conservation, per currency and over all accounts (merchant accounts included).
    const totals = Object.fromEntries((await q('SELECT currency, SUM(balance + frozen) AS total FROM accounts GROUP BY currency')).map((r) => [r.currency, Number(r.total)]));
    summary.totals = { initial: initialTotals, final: totals };
    for (const c of new Set([...Object.keys(initialTotals), ...Object.keys(totals)])) {
      if ((totals[c] ?? 0) !== (initialTotals[c] ?? 0)) v('money-not-conserved', { currency: c, initial: initialTotals[c], final: totals[c], diff: (totals[c] ?? 0) - (initialTotals[c] ?? 0) });
    }
    for (const [c, t] of Object.entries(seed.seededTotals)) if (initialTotals[c] !== t) v('seed-mismatch', { currency: c, seeded: t, measured: initialTotals[c] });

    // Nothing negative; nothing left frozen or reserved once every flow ended.
    for (const a of await q('SELECT id, balance, frozen FROM accounts WHERE balance < 0 OR frozen < 0 OR frozen <> 0')) {
      v(a.balance < 0 || a.frozen < 0 ? 'negative-account' : 'frozen-left', { account: a.id, balance: Number(a.balance), frozen: Number(a.frozen) });
    }
    const products = await q('SELECT sku, stock, reserved FROM products');
    for (const p of products) {
      if (p.stock < 0 || p.reserved < 0 || p.reserved > p.stock) v('negative-stock', { sku: p.sku, stock: p.stock, reserved: p.reserved });
      else if (p.reserved !== 0) v('reserved-left', { sku: p.sku, reserved: p.reserved });
    }

    // Every movement once: each account's ledger sums to its balance; no (flow, step, account) twice.
    const ledgerOff = await q(
      `SELECT a.id, a.balance, COALESCE(SUM(l.amount), 0) AS ledger FROM accounts a LEFT JOIN ledger_entries l ON l.account_id = a.id
        GROUP BY a.id, a.balance HAVING ledger <> a.balance`,
    );
    for (const r of ledgerOff) v('ledger-mismatch', { account: r.id, balance: Number(r.balance), ledger: Number(r.ledger) });
    for (const r of await q('SELECT flow_id, step, account_id, COUNT(*) AS n FROM ledger_entries GROUP BY flow_id, step, account_id HAVING n > 1')) {
      v('duplicate-movement', { flow: r.flow_id, step: r.step, account: r.account_id, n: r.n });
    }
    // How often each barrier case occurred (a forward op's row written by its undo = null compensation or hanging).
    summary.barriers = Object.fromEntries((await q('SELECT op, reason, COUNT(*) AS n FROM barriers GROUP BY op, reason ORDER BY op, reason')).map((r) => [`${r.op}<-${r.reason}`, Number(r.n)]));
    const barrierDup = await q('SELECT flow_id, branch_id, op, COUNT(*) AS n FROM barriers GROUP BY flow_id, branch_id, op HAVING n > 1');
    for (const r of barrierDup) v('duplicate-barrier', { flow: r.flow_id, branch: r.branch_id, op: r.op });

    const entries = groupBy(await q(`SELECT flow_id, step, account_id, amount FROM ledger_entries WHERE kind <> 'opening'`), 'flow_id');
    const transfers = new Map((await q('SELECT * FROM transfers')).map((r) => [r.id, r]));
    const orders = new Map((await q('SELECT * FROM orders')).map((r) => [r.id, r]));
    const items = groupBy(await q('SELECT order_id, line_no, sku, quantity, price FROM order_items ORDER BY order_id, line_no'), 'order_id');
    const payments = new Map((await q('SELECT * FROM payments')).map((r) => [r.order_id, r]));
    const points = groupBy(await q('SELECT order_id, customer_id, points FROM points_entries'), 'order_id');

    const outcome = {};
    const bump = (k) => (outcome[k] = (outcome[k] ?? 0) + 1);
    const confirmedQty = {};
    const expectedPoints = {};
    for (const f of flows.values()) {
      bump(`${f.kind}:${f.status}${f.reasonCode ? `:${f.reasonCode}` : ''}`);
      const ctx = { id: f.id, kind: f.kind, status: f.status, reason: f.reasonCode };
      if (!f.status || !['COMPLETED', 'COMPENSATED', 'CONFIRMED', 'CANCELLED'].includes(f.status)) {
        v(f.status === 'FAILED' ? 'flow-failed' : 'flow-not-terminal', ctx);
        continue;
      }
      if (f.reasonCode === 'DependencyUnavailable') v('gave-up-on-dependency', ctx);
      if (f.type === 'transfer') checkTransfer(f, transfers.get(f.id), movements(entries.get(`transfer-${f.id}`)), v, ctx);
      else {
        const o = orders.get(f.id);
        checkOrder(f, o, items.get(f.id) ?? [], payments.get(f.id), points.get(f.id) ?? [], movements(entries.get(`order-${f.id}`)), seed, v, ctx);
        if (o?.status === 'CONFIRMED') {
          for (const i of items.get(f.id) ?? []) confirmedQty[i.sku] = (confirmedQty[i.sku] ?? 0) + i.quantity;
          expectedPoints[o.customer_id] = (expectedPoints[o.customer_id] ?? 0) + Math.floor(Number(o.total) / POINTS_PER);
        }
      }
    }
    summary.outcomes = Object.fromEntries(Object.entries(outcome).sort());

    // Flows in the database that no accepted POST returned: a second flow for one Idempotency-Key, or a lost answer.
    for (const id of transfers.keys()) if (!flows.has(id)) v('orphan-flow', { type: 'transfer', id, status: transfers.get(id).status });
    for (const id of orders.keys()) if (!flows.has(id)) v('orphan-flow', { type: 'order', id, status: orders.get(id).status });

    // Stock: initial − confirmed quantities, nothing reserved.
    summary.stock = {};
    for (const p of products) {
      const expected = (seed.initialStock[p.sku] ?? 0) - (confirmedQty[p.sku] ?? 0);
      summary.stock[p.sku] = { initial: seed.initialStock[p.sku], confirmed: confirmedQty[p.sku] ?? 0, stock: p.stock, reserved: p.reserved };
      if (p.stock !== expected) v('stock-mismatch', { sku: p.sku, expected, actual: p.stock });
    }

    // The API agrees with the database: points per customer, and every seeded account.
    const customers = new Set([...flows.values()].filter((f) => f.type === 'order').map((f) => f.body.customerId));
    for (const c of customers) {
      const r = await api.untilAnswered('GET', `/v1/customers/${c}/points`, { route: 'GET /v1/customers/:id/points' });
      if (r.status !== 200 || r.body.data.balance !== (expectedPoints[c] ?? 0)) v('points-mismatch', { customer: c, status: r.status, api: r.body?.data?.balance, expected: expectedPoints[c] ?? 0 });
    }
    const dbAccounts = new Map((await q('SELECT id, balance, frozen FROM accounts')).map((a) => [a.id, a]));
    for (const id of [...seed.hot, ...seed.eur, seed.merchant]) {
      const r = await api.untilAnswered('GET', `/v1/accounts/${id}`, { route: 'GET /v1/accounts/:id' });
      const a = dbAccounts.get(id);
      if (r.status !== 200 || r.body.data.balance !== Number(a.balance) || r.body.data.frozen !== Number(a.frozen)) {
        v('account-view-mismatch', { id, status: r.status, api: r.body?.data, db: a && { balance: Number(a.balance), frozen: Number(a.frozen) } });
      }
    }
    summary.accounts = Object.fromEntries([...dbAccounts.values()].map((a) => [a.id, { balance: Number(a.balance), frozen: Number(a.frozen) }]));
  } finally {
    await conn.end();
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

function checkTransfer(f, row, { net, steps }, v, ctx) {
  if (!row) return v('transfer-row-missing', ctx);
  if (row.status !== f.status) v('status-mismatch', { ...ctx, db: row.status });
  const b = f.body;
  if (row.from_account_id !== b.fromAccountId || row.to_account_id !== b.toAccountId || Number(row.amount) !== b.amount) v('transfer-row-differs', ctx);
  const names = Object.keys(steps).sort().join(',');
  if (f.status === 'COMPLETED') {
    const ok = names === 'credit,debit' && net[b.fromAccountId] === -b.amount && net[b.toAccountId] === b.amount;
    if (!ok) v('transfer-effects', { ...ctx, steps: names, net });
  } else {
    const bad = Object.values(net).some((x) => x !== 0) || !!steps.debit !== !!steps['refund-debit'] || !!steps.credit !== !!steps['reverse-credit'];
    if (bad) v('transfer-effects', { ...ctx, steps: names, net });
    if (f.reasonCode !== 'InsufficientFunds') v('unexpected-compensation', ctx);
  }
  if (f.kind === 'transfer-huge' && f.status !== 'COMPENSATED') v('expected-insufficient-funds', ctx);
}

function checkOrder(f, o, items, pay, pts, { net, steps }, seed, v, ctx) {
  if (!o) return v('order-row-missing', ctx);
  if (o.status !== f.status) v('status-mismatch', { ...ctx, db: o.status });
  const total = Number(o.total);
  const lines = items.map((i) => `${i.sku}x${i.quantity}`).join(',');
  if (lines !== f.body.items.map((i) => `${i.sku}x${i.quantity}`).join(',') || items.reduce((s, i) => s + Number(i.price) * i.quantity, 0) !== total) {
    v('order-lines-differ', { ...ctx, lines });
  }
  const names = Object.keys(steps).sort().join(',');
  if (f.status === 'CONFIRMED') {
    if (!pay || pay.state !== 'CONFIRMED' || Number(pay.amount) !== total) v('payment-not-confirmed', { ...ctx, payment: pay?.state });
    const ok = names === 'payment-confirm,payment-try' && net[f.body.paymentAccountId] === -total && net[seed.merchant] === total;
    if (!ok) v('order-effects', { ...ctx, steps: names, net });
    if (pts.length !== 1 || Number(pts[0].points) !== Math.floor(total / POINTS_PER) || pts[0].customer_id !== f.body.customerId) v('points-not-awarded', { ...ctx, points: pts });
    const approved = f.action === 'approve' && (f.actionStatus === 202 || f.actionUncertain);
    if (total > APPROVAL_THRESHOLD && !approved) v('confirmed-without-approval', { ...ctx, total, action: f.action, actionStatus: f.actionStatus });
    if (f.kind === 'order-oos') v('expected-out-of-stock', ctx);
    if (f.actionStatus === 202 && f.action !== 'approve') v('cancel-accepted-but-confirmed', { ...ctx, action: f.action });
  } else {
    if (pay && pay.state !== 'CANCELLED') v('payment-not-released', { ...ctx, payment: pay.state });
    if (Object.values(net).some((x) => x !== 0) || steps['payment-confirm'] || !!steps['payment-try'] !== !!steps['payment-cancel']) v('order-effects', { ...ctx, steps: names, net });
    if (pts.length) v('points-on-cancelled-order', ctx);
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
