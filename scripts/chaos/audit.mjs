// The audit after quiescence: one read-only snapshot of every service database and ledger shard (mysql2 directly, see
// ./snapshot.mjs), then every invariant of ./invariants/ over it, in the order listed there — ledger conservation and
// per-shard rules, flows terminal, transfers by mode, orders and points, barriers, stock, orphans, events (outboxes,
// dead letters), the API's views, Temporal's running flows; with --dtm, the DTM load's gids and the participant's banks. Each breach is a violation on the run's recorder; the
// summary (the report's `audit` section) gathers what each invariant measured.
import { invariants } from './invariants/index.mjs';
import { buildState, connect, takeSnapshot } from './snapshot.mjs';

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

export async function audit({ urls, shardOf, flows, seed, initialTotals, rec, api, temporal, poison = [], dtm = null }) {
  const violation = (kind, detail) => rec.violation(kind, detail);
  const snap = await takeSnapshot(urls, invariants.filter((i) => i.read));
  const state = buildState(snap, { flows, seed, shardOf, initialTotals, poison, api, temporal, dtm });
  const summary = {};
  for (const invariant of invariants) await invariant.check(state, violation, summary);
  return summary;
}
