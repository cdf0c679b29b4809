// DTM load (--dtm): every gid the load created ended — the coordinator's query (polled by the load until quiescence)
// says succeed or failed, and its durable record (dtm_trans) says the same; no record is left prepared, submitted or
// aborting, none belongs to a gid the load never created; a gid whose outcome was certain (an empty source account, a
// rolled-back local transaction, a committed message whose submit was lost, a saga from a funded account) ended so;
// each type reached both outcomes (a run where, say, no TCC ever succeeds exercised too little).
import { readDtmState } from '../dtm-snapshot.mjs';

const TERMINAL = ['succeed', 'failed'];

export default {
  name: 'dtm-terminal',
  read: ({ urls }) => readDtmState(urls),
  check({ dtm, reads }, v, summary) {
    const db = reads['dtm-terminal'];
    if (!dtm || !db) return;
    for (const t of dtm.gids.values()) {
      const ctx = { gid: t.gid, type: t.type, variant: t.variant, status: t.status };
      if (!TERMINAL.includes(t.status)) v('dtm-not-terminal', ctx);
      const record = db.trans.get(t.gid);
      if (!record || record.status !== t.status) v('dtm-record-mismatch', { ...ctx, record: record?.status ?? null });
      if (t.expect && TERMINAL.includes(t.status) && t.expect !== t.status) v('dtm-unexpected-outcome', { ...ctx, expected: t.expect, answers: t.answers });
    }
    for (const [gid, r] of db.trans) {
      if (!dtm.gids.has(gid)) v('dtm-orphan-gid', { gid, type: r.trans_type, status: r.status });
      else if (!TERMINAL.includes(r.status)) v('dtm-record-not-terminal', { gid, type: r.trans_type, status: r.status });
    }
    // A load that never reached an outcome (e.g. no TCC ever succeeded) would leave the other checks unexercised.
    for (const type of ['saga', 'tcc', 'msg', 'xa']) {
      const ended = [...dtm.gids.values()].filter((t) => t.type === type);
      for (const status of TERMINAL) if (ended.length >= 10 && !ended.some((t) => t.status === status)) v('dtm-outcome-never-seen', { type, status, gids: ended.length });
    }
    const records = {};
    for (const r of db.trans.values()) records[`${r.trans_type}:${r.status}`] = (records[`${r.trans_type}:${r.status}`] ?? 0) + 1;
    summary.dtmRecords = Object.fromEntries(Object.entries(records).sort());
  },
};
