// One read-only look, after quiescence, at what the DTM load left in the databases: each bank's accounts, movement
// journal and barrier rows (./dtm-bank.ts), the coordinator's durable records (the dtm service's dtm_trans), and
// XA RECOVER on each bank's server — plus the indexes the invariants/dtm-*.mjs share (per gid: net movement per
// account, barrier rows per branch). Read once per run (memoised): three invariants judge the same state.
import { connect } from './snapshot.mjs';

let cached;

/** The DTM state, or null when the run had no DTM load. */
export function readDtmState(urls) {
  if (!urls?.dtm) return null;
  cached ??= read(urls.dtm);
  return cached;
}

async function read({ banks, store }) {
  const out = { banks: {}, trans: new Map() };
  for (const [name, url] of Object.entries(banks)) {
    const c = await connect(url);
    try {
      const q = async (sql) => (await c.query(sql))[0];
      out.banks[name] = {
        accounts: await q('SELECT id, balance, frozen FROM accounts'),
        movements: await q('SELECT gid, branch_id, op, account, d_balance, d_frozen FROM movements'),
        barrier: await q('SELECT trans_type, gid, branch_id, op, barrier_id, reason FROM barrier'),
        xaPrepared: await q('XA RECOVER'),
      };
    } finally {
      await c.end();
    }
  }
  const c = await connect(store);
  try {
    for (const r of (await c.query('SELECT gid, trans_type, status FROM dtm_trans'))[0]) out.trans.set(r.gid, r);
  } finally {
    await c.end();
  }
  return indexDtmState(out);
}

/**
 * The state with `byGid`: gid → { net: Map(`bank|account` → { balance, frozen }), branches: Map(`bank|branch` → { op:
 * reason }), movedOps: Set(op) }. `state`: { banks: { name: { accounts, movements, barrier, xaPrepared } }, trans }.
 */
export function indexDtmState(state) {
  const byGid = new Map();
  const of = (gid) => {
    if (!byGid.has(gid)) byGid.set(gid, { net: new Map(), branches: new Map(), movedOps: new Set() });
    return byGid.get(gid);
  };
  for (const [bank, b] of Object.entries(state.banks)) {
    for (const m of b.movements) {
      const g = of(m.gid);
      const key = `${bank}|${m.account}`;
      const n = g.net.get(key) ?? { balance: 0, frozen: 0 };
      g.net.set(key, { balance: n.balance + Number(m.d_balance), frozen: n.frozen + Number(m.d_frozen) });
      g.movedOps.add(m.op);
    }
    for (const r of b.barrier) {
      const g = of(r.gid);
      const key = `${bank}|${r.branch_id}`;
      if (!g.branches.has(key)) g.branches.set(key, {});
      g.branches.get(key)[r.op] = r.reason;
    }
  }
  return { ...state, byGid };
}
