// Barriers, from every service's database: at most one row per (flow, branch, op); per ended flow, one row per branch
// operation that ran, in the database of the branch's owner, and only the combinations the barrier can produce
// (applied, undone, null compensation), matching the effects (ledger entries, the payment hold's state).

/** A saga or TCC branch's state from its barrier rows ({ op: reason }). */
const STATES = {
  saga: {
    '': 'none',
    'action<-action': 'done',
    'action<-action,compensate<-compensate': 'undone',
    'action<-compensate,compensate<-compensate': 'null-compensated',
  },
  tcc: {
    '': 'none',
    'try<-try': 'tried',
    'confirm<-confirm,try<-try': 'confirmed',
    'cancel<-cancel,try<-try': 'cancelled',
    'cancel<-cancel,try<-cancel': 'null-cancelled',
  },
};
function branchState(kind, ops) {
  const k = Object.entries(ops).map(([op, reason]) => `${op}<-${reason}`).sort().join(',');
  return STATES[kind][k] ?? `invalid(${k})`;
}

/**
 * Checks a flow's barrier rows against what its branches must have left: every expected (database, branch) in an
 * allowed state, nothing elsewhere. `expect` maps `${db}|${branch}` → { kind: 'saga'|'tcc', allowed: [...] }.
 */
function checkBranches(branches, expect, v, ctx) {
  const states = {};
  for (const [key, e] of Object.entries(expect)) {
    const state = branchState(e.kind, branches.get(key) ?? {});
    states[key] = state;
    if (!e.allowed.includes(state)) v('barrier-state', { ...ctx, branch: key, state, allowed: e.allowed });
  }
  for (const key of branches.keys()) if (!(key in expect)) v('barrier-unexpected', { ...ctx, branch: key, ops: branches.get(key) });
  return states;
}

function checkTccTransfer(f, branches, steps, v, ctx, shardOf) {
  const src = `ledger-${shardOf(f.body.fromAccountId)}|tcc-from`;
  const dst = `ledger-${shardOf(f.body.toAccountId)}|tcc-to`;
  const allowed = f.status === 'COMPLETED' ? ['confirmed'] : ['none', 'cancelled', 'null-cancelled'];
  const s = checkBranches(branches, { [src]: { kind: 'tcc', allowed }, [dst]: { kind: 'tcc', allowed } }, v, ctx);
  if ((s[src] === 'confirmed' || s[src] === 'cancelled') !== !!steps['tcc-hold']) v('barrier-effect-mismatch', { ...ctx, branch: src, state: s[src], steps: Object.keys(steps) });
}

function checkXaTransfer(f, branches, v, ctx, shardOf) {
  // A committed branch keeps its `try` row (written inside the branch); a rolled-back one has the rollback's rows.
  const [from, to] = [shardOf(f.body.fromAccountId), shardOf(f.body.toAccountId)];
  const keys = from === to ? [`ledger-${from}|xa-both`] : [`ledger-${from}|xa-from`, `ledger-${to}|xa-to`];
  const allowed = f.status === 'COMPLETED' ? ['tried'] : ['none', 'null-cancelled'];
  checkBranches(branches, Object.fromEntries(keys.map((k) => [k, { kind: 'tcc', allowed }])), v, ctx);
}

function checkSagaTransfer(f, branches, steps, v, ctx, shardOf) {
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

function checkTransferBarriers(f, branches, { steps }, v, ctx, shardOf) {
  const mode = f.body.consistency ?? 'saga';
  if (mode === 'tcc') checkTccTransfer(f, branches, steps, v, ctx, shardOf);
  else if (mode === 'xa') checkXaTransfer(f, branches, v, ctx, shardOf);
  else checkSagaTransfer(f, branches, steps, v, ctx, shardOf);
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

/** One row per (flow, branch, op) in each database; the summary counts the op<-reason cases per database. */
function checkRows({ databases, barrierRows }, v, summary) {
  summary.barriers = {};
  for (const db of databases) {
    const cases = {};
    const seen = new Set();
    for (const r of barrierRows[db]) {
      cases[`${r.op}<-${r.reason}`] = (cases[`${r.op}<-${r.reason}`] ?? 0) + 1;
      const key = `${r.flow_id}|${r.branch_id}|${r.op}`;
      if (seen.has(key)) v('duplicate-barrier', { db, flow: r.flow_id, branch: r.branch_id, op: r.op });
      seen.add(key);
    }
    summary.barriers[db] = Object.fromEntries(Object.entries(cases).sort());
  }
}

export default {
  name: 'barriers',
  check(state, v, summary) {
    checkRows(state, v, summary);
    for (const { f, ctx, branches, movements } of state.ended) {
      if (f.type === 'transfer') checkTransferBarriers(f, branches, movements, v, ctx, state.shardOf);
      else checkOrderBarriers(f, state.orders.get(f.id), branches, state.payments.get(f.id), v, ctx, state.shardOf, state.seed);
    }
  },
};
