// Orders and points, each ended order against its row, its lines, its payment hold and its ledger entries:
// - CONFIRMED: priced lines as ordered, the payment captured for the total, the payer debited and the merchant
//   (sub-)account credited once, exactly one points award of the right amount, approval given when over the threshold;
// - CANCELLED: the hold released, nothing moved, no points, and only a reason its actions allow.
import { APPROVAL_THRESHOLD } from '../load.mjs';
import { POINTS_PER } from '../snapshot.mjs';

function checkConfirmed(f, { pay, pts, total, names, net, seed }, v, ctx) {
  if (!pay || pay.state !== 'CAPTURED' || Number(pay.amount) !== total) v('payment-not-captured', { ...ctx, payment: pay?.state });
  const ok = names === 'merchant-credit,payment-try' && net[f.body.paymentAccountId] === -total && net[seed.merchantOf(f.id)] === total;
  if (!ok) v('order-effects', { ...ctx, steps: names, net });
  if (pts.length !== 1 || Number(pts[0].points) !== Math.floor(total / POINTS_PER) || pts[0].customer_id !== f.body.customerId) v('points-not-awarded', { ...ctx, points: pts });
  const approved = f.action === 'approve' && (f.actionStatus === 202 || f.actionUncertain);
  if (total > APPROVAL_THRESHOLD && !approved) v('confirmed-without-approval', { ...ctx, total, action: f.action, actionStatus: f.actionStatus });
  if (f.kind === 'order-oos') v('expected-out-of-stock', ctx);
  if (f.actionStatus === 202 && f.action !== 'approve') v('cancel-accepted-but-confirmed', { ...ctx, action: f.action });
}

function checkCancelled(f, { pay, pts, names, net, steps }, v, ctx) {
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
  if (f.status === 'CONFIRMED') checkConfirmed(f, { pay, pts, total, names, net, seed }, v, ctx);
  else checkCancelled(f, { pay, pts, names, net, steps }, v, ctx);
}

export default {
  name: 'orders',
  check(state, v, summary) {
    for (const { f, ctx, movements } of state.ended) {
      if (f.type === 'transfer') continue;
      checkOrder(f, state.orders.get(f.id), state.items.get(f.id) ?? [], state.payments.get(f.id), state.points.get(f.id) ?? [], movements, state.seed, v, ctx, state.shardOf);
    }
    summary.points = { rows: state.pointRows.length, total: state.pointRows.reduce((s, r) => s + Number(r.points), 0) };
  },
};
