// DTM load (--dtm): the participant's money. The banks hold what they were seeded with (balance + frozen over both),
// nothing is left frozen, no balance is negative; each gid moved, per account, exactly what it meant to (its `legs`)
// when it succeeded and nothing when it failed — judged from the movement journal each branch writes in its
// barrier's transaction; no movement belongs to a gid the load never created.
import { readDtmState } from '../dtm-snapshot.mjs';

function expectedNet(t) {
  const want = new Map();
  if (t.status !== 'succeed') return want;
  for (const l of t.legs) want.set(`${l.bank}|${l.account}`, (want.get(`${l.bank}|${l.account}`) ?? 0) + l.delta);
  return want;
}

function differs(want, net) {
  for (const key of new Set([...want.keys(), ...net.keys()])) {
    const n = net.get(key) ?? { balance: 0, frozen: 0 };
    if (n.balance !== (want.get(key) ?? 0) || n.frozen !== 0) return true;
  }
  return false;
}

export default {
  name: 'dtm-money',
  read: ({ urls }) => readDtmState(urls),
  check({ dtm, reads }, v, summary) {
    const db = reads['dtm-money'];
    if (!dtm || !db) return;
    let total = 0;
    for (const [bank, b] of Object.entries(db.banks)) {
      for (const a of b.accounts) {
        total += Number(a.balance) + Number(a.frozen);
        if (Number(a.frozen) !== 0) v('dtm-frozen-left', { bank, account: a.id, frozen: Number(a.frozen) });
        if (Number(a.balance) < 0) v('dtm-negative-balance', { bank, account: a.id, balance: Number(a.balance) });
      }
    }
    summary.dtmMoney = { initial: dtm.initialTotal, final: total };
    if (total !== dtm.initialTotal) v('dtm-money-not-conserved', summary.dtmMoney);
    let moved = 0;
    for (const t of dtm.gids.values()) {
      if (!['succeed', 'failed'].includes(t.status)) continue; // dtm-terminal reports it
      const net = db.byGid.get(t.gid)?.net ?? new Map();
      const want = expectedNet(t);
      if (t.status === 'succeed') moved += t.legs.filter((l) => l.delta > 0).reduce((s, l) => s + l.delta, 0);
      if (differs(want, net)) v('dtm-gid-moved-wrong', { gid: t.gid, type: t.type, variant: t.variant, status: t.status, expected: Object.fromEntries(want), actual: Object.fromEntries(net) });
    }
    summary.dtmMoney.movedBySucceeded = moved;
    for (const [gid, g] of db.byGid) if (g.net.size && !dtm.gids.has(gid)) v('dtm-orphan-movement', { gid });
  },
};
