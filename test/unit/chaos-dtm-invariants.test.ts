// The chaos run's DTM invariants (scripts/chaos/invariants/dtm-*.mjs) over hand-made database states: a consistent
// state passes, and each breach they exist for (a failed saga left uncompensated, a try never confirmed nor cancelled,
// money moved by a failed gid, a message left prepared, money not conserved) is reported under its kind.
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module of the scripts, no types
import { indexDtmState } from '../../scripts/chaos/dtm-snapshot.mjs';
// @ts-expect-error a plain ES module of the scripts, no types
import barriers from '../../scripts/chaos/invariants/dtm-barriers.mjs';
// @ts-expect-error a plain ES module of the scripts, no types
import money from '../../scripts/chaos/invariants/dtm-money.mjs';
// @ts-expect-error a plain ES module of the scripts, no types
import terminal from '../../scripts/chaos/invariants/dtm-terminal.mjs';

type Row = Record<string, unknown>;
interface Gid {
  gid: string;
  type: string;
  variant: string;
  expect?: string;
  status: string | null;
  legs: Array<{ bank: string; account: string; delta: number }>;
  answers: Record<string, unknown>;
}

const mv = (gid: string, branch_id: string, op: string, account: string, d_balance: number, d_frozen = 0) => ({ gid, branch_id, op, account, d_balance, d_frozen });
const bar = (gid: string, branch_id: string, op: string, reason = op) => ({ trans_type: '', gid, branch_id, op, barrier_id: '01', reason });

/** Both banks seeded with 1000 on r1; `a` and `b` list each bank's movements and barrier rows. */
function judge(gids: Gid[], a: { movements: Row[]; barrier: Row[]; xaPrepared?: Row[] }, b: { movements: Row[]; barrier: Row[] }, trans = gids) {
  const balance = (bank: Row[]) => 1000 + bank.reduce((s, m) => s + Number(m.d_balance), 0);
  const frozen = (bank: Row[]) => bank.reduce((s, m) => s + Number(m.d_frozen), 0);
  const state = indexDtmState({
    banks: {
      a: { xaPrepared: [], ...a, accounts: [{ id: 'r1', balance: balance(a.movements), frozen: frozen(a.movements) }] },
      b: { ...b, accounts: [{ id: 'r1', balance: balance(b.movements), frozen: frozen(b.movements) }], xaPrepared: [] },
    },
    trans: new Map(trans.map((t) => [t.gid, { gid: t.gid, trans_type: t.type, status: t.status }])),
  });
  const dtm = { gids: new Map(gids.map((t) => [t.gid, t])), initialTotal: 2000 };
  const kinds: string[] = [];
  for (const inv of [terminal, money, barriers]) inv.check({ dtm, reads: { [inv.name]: state } }, (kind: string) => kinds.push(kind), {});
  return kinds.sort();
}

const transfer = (gid: string, type: string, status: string | null, amount = 10): Gid => ({
  gid,
  type,
  variant: 'v',
  status,
  legs: [{ bank: 'a', account: 'r1', delta: -amount }, { bank: 'b', account: 'r1', delta: amount }],
  answers: {},
});

describe('chaos DTM invariants', () => {
  it('when a saga succeeded and one failed and was compensated, then nothing is reported', () => {
    const kinds = judge(
      [transfer('s1', 'saga', 'succeed'), transfer('s2', 'saga', 'failed')],
      { movements: [mv('s1', '01', 'action', 'r1', -10)], barrier: [bar('s1', '01', 'action'), bar('s2', '01', 'action', 'compensate'), bar('s2', '01', 'compensate')] },
      { movements: [mv('s1', '02', 'action', 'r1', 10), mv('s2', '02', 'action', 'r1', 10), mv('s2', '02', 'compensate', 'r1', -10)], barrier: [bar('s1', '02', 'action'), bar('s2', '02', 'action'), bar('s2', '02', 'compensate')] },
    );
    expect(kinds).toEqual([]);
  });

  it('when a failed saga kept an action without its compensation, then it is reported uncompensated and as money moved', () => {
    const kinds = judge([transfer('s3', 'saga', 'failed')], { movements: [], barrier: [] }, { movements: [mv('s3', '02', 'action', 'r1', 10)], barrier: [bar('s3', '02', 'action')] });
    expect(kinds).toEqual(['dtm-gid-moved-wrong', 'dtm-money-not-conserved', 'dtm-saga-uncompensated']);
  });

  it('when a TCC try was never confirmed nor cancelled, then the try and the frozen money are reported', () => {
    const kinds = judge([transfer('t1', 'tcc', 'failed')], { movements: [mv('t1', '01', 'try', 'r1', -10, 10)], barrier: [bar('t1', '01', 'try')] }, { movements: [], barrier: [] });
    expect(kinds).toEqual(['dtm-frozen-left', 'dtm-gid-moved-wrong', 'dtm-try-unresolved']);
  });

  it('when a message is still prepared, then it is reported not terminal (and its record too)', () => {
    const kinds = judge([transfer('m1', 'msg', 'prepared')], { movements: [], barrier: [] }, { movements: [], barrier: [] });
    expect(kinds).toEqual(['dtm-not-terminal', 'dtm-record-not-terminal']);
  });

  it('when a failed message had committed its local transaction, then it is reported (debited, never delivered)', () => {
    const kinds = judge([transfer('m2', 'msg', 'failed')], { movements: [mv('m2', '00', 'msg', 'r1', -10)], barrier: [bar('m2', '00', 'msg')] }, { movements: [], barrier: [] });
    expect(kinds).toEqual(['dtm-gid-moved-wrong', 'dtm-money-not-conserved', 'dtm-msg-committed-not-delivered']);
  });

  it('when an XA transaction succeeded but a branch of one is still prepared on the server, then that branch is reported', () => {
    const kinds = judge(
      [transfer('chaos-xa-1', 'xa', 'succeed')],
      { movements: [mv('chaos-xa-1', '01', 'action', 'r1', -10)], barrier: [], xaPrepared: [{ data: 'chaos-xa-202' }, { data: 'transfer-9x' }] },
      { movements: [mv('chaos-xa-1', '02', 'action', 'r1', 10)], barrier: [] },
    );
    expect(kinds).toEqual(['dtm-xa-prepared-left']);
  });

  it('when the coordinator has a record the load never created, then it is an orphan', () => {
    const kinds = judge([], { movements: [], barrier: [] }, { movements: [], barrier: [] }, [transfer('x1', 'saga', 'succeed')]);
    expect(kinds).toEqual(['dtm-orphan-gid']);
  });
});
