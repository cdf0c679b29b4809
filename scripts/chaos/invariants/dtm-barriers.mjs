// DTM load (--dtm): what the participant's barrier rows say about each gid. A failed saga compensated every branch
// whose action has a row (the barrier holds `compensate` beside each `action`); a succeeded saga compensated nothing.
// Nothing is left prepared: every TCC try has its confirm or cancel (confirm on every branch of a succeeded TCC, none on
// a failed one); a succeeded message's local transaction committed (the `msg` row written by it), a failed one's never
// did; XA RECOVER lists no branch of the load's XA transactions on the banks' servers.
import { readDtmState } from '../dtm-snapshot.mjs';

function sagaBranches(t, branches, v) {
  for (const [key, ops] of branches) {
    if (t.status === 'failed' && ops.action !== undefined && ops.compensate === undefined) v('dtm-saga-uncompensated', { gid: t.gid, branch: key, ops });
    if (t.status === 'succeed' && ops.compensate !== undefined) v('dtm-saga-compensated-on-success', { gid: t.gid, branch: key, ops });
  }
}

function tccBranches(t, branches, v) {
  for (const [key, ops] of branches) {
    if (ops.try === 'try' && ops.confirm === undefined && ops.cancel === undefined) v('dtm-try-unresolved', { gid: t.gid, branch: key, ops });
    if (t.status === 'succeed' && ops.confirm !== 'confirm') v('dtm-tcc-branch-not-confirmed', { gid: t.gid, branch: key, ops });
    if (t.status === 'failed' && ops.confirm !== undefined) v('dtm-tcc-confirmed-on-failure', { gid: t.gid, branch: key, ops });
  }
}

function msgBranches(t, branches, v) {
  const local = [...branches].filter(([key]) => key.endsWith('|00')).map(([, ops]) => ops.msg);
  if (t.status === 'succeed' && !local.includes('msg')) v('dtm-msg-delivered-without-local', { gid: t.gid, local });
  if (t.status === 'failed' && local.includes('msg')) v('dtm-msg-committed-not-delivered', { gid: t.gid, local });
}

export default {
  name: 'dtm-barriers',
  read: ({ urls }) => readDtmState(urls),
  check({ dtm, reads }, v, summary) {
    const db = reads['dtm-barriers'];
    if (!dtm || !db) return;
    const checks = { saga: sagaBranches, tcc: tccBranches, msg: msgBranches };
    let rows = 0;
    for (const t of dtm.gids.values()) {
      if (!['succeed', 'failed'].includes(t.status)) continue;
      const branches = db.byGid.get(t.gid)?.branches ?? new Map();
      rows += branches.size;
      checks[t.type]?.(t, branches, v);
    }
    // XA RECOVER is server-wide: the banks' own xids (gtrid = a gid of the load) only; the ledger's are its invariant's.
    const xa = Object.entries(db.banks).flatMap(([bank, b]) => b.xaPrepared.map((x) => ({ bank, xid: String(x.data) }))).filter((x) => x.xid.startsWith('chaos-'));
    if (xa.length) v('dtm-xa-prepared-left', { prepared: xa.slice(0, 10), count: xa.length });
    summary.dtmBarrierBranches = rows;
  },
};
