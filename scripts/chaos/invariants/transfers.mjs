// Transfers by mode, each ended transfer against its row (on its source's shard) and its ledger entries:
// - saga: debit → credit (COMPLETED), or the debit refunded and never credited (COMPENSATED: the credit is the pivot);
// - tcc: held (tcc-hold) then confirmed (tcc-confirm), or cancelled (tcc-cancel) with nothing moved;
// - xa: both branches written together (xa-debit, xa-credit), or nothing written at all.
// Only a rejection for insufficient funds compensates; a transfer-huge always does.

/** A tcc or xa transfer's ledger entries. */
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
    if (f.reasonCode !== 'InsufficientFunds') v('unexpected-compensation', ctx);
  }
  for (const e of Object.values(steps)) if (e.shard !== shardOf(e.account_id)) v('movement-on-wrong-shard', { ...ctx, step: e.step, shard: e.shard });
  if (f.kind === 'transfer-huge' && f.status !== 'COMPENSATED') v('expected-insufficient-funds', ctx);
}

export default {
  name: 'transfers',
  check({ ended, transfers, shardOf }, v) {
    for (const { f, ctx, movements } of ended) if (f.type === 'transfer') checkTransfer(f, transfers.get(f.id), movements, v, ctx, shardOf);
  },
};
