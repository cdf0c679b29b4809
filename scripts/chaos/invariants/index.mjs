// The chaos audit's invariants, run in this order over one snapshot of every database (see ../audit.mjs).
//
// Adding one is one new file here plus one line (its file name) in FILES below. A module's default export is
//   { name, check(state, violation, summary), read?(db) }
// - `check` judges the state and reports each breach with `violation(kind, detail)` (a stable kind; the detail names
//   the flow, account, shard or row); it may add what it measured to `summary` (the report's `audit` section) under
//   its own keys, and be async when it asks the API (`state.api`) or Temporal (`state.temporal`).
// - `state` is plain data, read once after quiescence (../snapshot.mjs): the run's inputs (flows, seed, shardOf,
//   initialTotals, poison, api, temporal), every database's rows (shards[], products, orderRows, itemRows, pointRows,
//   barrierRows, outbox, deadLetters) and shared indexes (accounts, transfers, payments, orders, items, points,
//   barriers and entriesByFlow by id; `ended`: each terminal flow with its branches and movements; confirmedQty,
//   expectedPoints).
// - `read({ query, databases, urls })`, optional: the invariant's own read-only queries (query(db, sql, args), db one of
//   `databases` or 'api'), taken with the snapshot; its result is `state.reads[name]`.
const FILES = [
  'ledger',
  'flows',
  'transfers',
  'no-double-pay',
  'orders',
  'barriers',
  'stock',
  'orphans',
  'events',
  'api-views',
  'temporal',
  // The DTM load's (--dtm; each is silent without it).
  'dtm-terminal',
  'dtm-money',
  'dtm-barriers',
];

export const invariants = await Promise.all(
  FILES.map(async (file) => {
    const inv = (await import(`./${file}.mjs`)).default;
    if (typeof inv?.name !== 'string' || typeof inv.check !== 'function') throw new Error(`invariants/${file}.mjs: export default { name, check(state, violation, summary) }`);
    return inv;
  }),
);
