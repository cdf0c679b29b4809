// The participant kit's Hono middleware (src/participant/middleware.ts): a small TS service whose routes are DTM branches,
// called the way a DTM-protocol coordinator calls them (query gid, trans_type, branch_id, op; JSON body), on a real
// MariaDB; judged by the answers DTM's protocol defines and by the rows in the service's database.
import { Hono } from 'hono';
import type { Transaction } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDtmBarrier, dtmBranch, DtmFailure, DtmOngoing, type DtmBranchEnv } from '../../src/participant';
import { uid } from '../helpers/env';
import { createParticipantDb, type ParticipantDb } from './dtm-db';

describe('dtmBranch middleware', () => {
  let pdb: ParticipantDb;
  let app: Hono<DtmBranchEnv>;
  const outcomes: string[] = [];

  beforeAll(async () => {
    pdb = await createParticipantDb('dtmmw');
    const barrier = createDtmBarrier(pdb.db, { table: pdb.table });
    const record = (gid: string, what: string) => (t: Transaction) =>
      pdb.db.query('INSERT INTO effects (gid, what) VALUES (?, ?)', { replacements: [gid, what], transaction: t });
    app = new Hono<DtmBranchEnv>();
    app.onError((_err, c) => c.json({ message: 'internal error' }, 500));
    app.post('/transfer-out', dtmBranch(barrier), async (c) => {
      const { amount } = await c.req.json<{ amount: number }>();
      const { gid } = c.var.dtm.branch;
      const res = await c.var.dtm.handle(async (t) => {
        if (amount > 100) throw new DtmFailure('insufficient balance');
        if (amount === 42) throw new DtmOngoing();
        if (amount === 13) throw new Error('database unreachable');
        await record(gid, `out:${amount}`)(t);
      });
      outcomes.push(c.var.dtm.outcome ?? 'none');
      return res;
    });
    app.post('/transfer-out-compensate', dtmBranch(barrier), (c) => c.var.dtm.handle(record(c.var.dtm.branch.gid, 'out-undone')));
    app.post('/twice', dtmBranch(barrier), async (c) => {
      await c.var.dtm.handle(record(c.var.dtm.branch.gid, 'first'));
      return c.var.dtm.handle(record(c.var.dtm.branch.gid, 'second'));
    });
    app.post('/msg-local', async (c) => {
      await barrier.msgLocal(c.req.query('gid')!, record(c.req.query('gid')!, 'local'));
      return c.json({ ok: true });
    });
    app.get('/query-prepared', dtmBranch(barrier), (c) => c.var.dtm.queryPrepared());
  });
  afterAll(() => pdb?.close());

  const call = (path: string, gid: string, op: string, body?: unknown, transType = 'saga') => {
    const q = new URLSearchParams({ gid, trans_type: transType, branch_id: '01', op });
    return app.request(`${path}?${q}`, body === undefined ? { method: 'GET' } : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  };

  it('when a branch call lacks one of the query parameters, then it answers 400 and writes nothing', async () => {
    const res = await app.request('/transfer-out?gid=g1&op=action', { method: 'POST', body: '{"amount":1}' });
    expect(res.status).toBe(400);
    expect(await pdb.effects('g1')).toEqual([]);
  });

  it('when the coordinator calls an action twice, then both answer 200 SUCCESS and the write happened once', async () => {
    const gid = uid('mw-');
    for (let i = 0; i < 2; i++) {
      const res = await call('/transfer-out', gid, 'action', { amount: 30 });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ dtm_result: 'SUCCESS' });
    }
    expect(outcomes.slice(-2)).toEqual(['applied', 'duplicate']);
    expect(await pdb.effects(gid)).toEqual(['out:30']);
  });

  it('when an action fails for business reasons, then it answers 409 FAILURE and its compensation answers 200 without undoing anything', async () => {
    const gid = uid('mw-');
    const res = await call('/transfer-out', gid, 'action', { amount: 500 });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ dtm_result: 'FAILURE', message: 'insufficient balance' });
    const undo = await call('/transfer-out-compensate', gid, 'compensate', { amount: 500 });
    expect(undo.status).toBe(200);
    expect(await pdb.effects(gid)).toEqual([]);
  });

  it('when the write is not done yet, then it answers 425 ONGOING and a later call can still apply it', async () => {
    const gid = uid('mw-');
    const res = await call('/transfer-out', gid, 'action', { amount: 42 });
    expect(res.status).toBe(425);
    expect((await res.text()).includes('FAILURE')).toBe(false);
    expect((await call('/transfer-out', gid, 'action', { amount: 7 })).status).toBe(200);
    expect(await pdb.effects(gid)).toEqual(['out:7']);
  });

  it('when the write fails unexpectedly, then the app answers 500 (the coordinator retries) and nothing is left behind', async () => {
    const gid = uid('mw-');
    expect((await call('/transfer-out', gid, 'action', { amount: 13 })).status).toBe(500);
    const [rows] = await pdb.db.query(`SELECT op FROM ${pdb.table} WHERE gid = ?`, { replacements: [gid] });
    expect(rows).toEqual([]);
  });

  it('when a handler runs the barrier twice in one request, then the calls take barrier ids 01 and 02', async () => {
    const gid = uid('mw-');
    expect((await call('/twice', gid, 'action', {})).status).toBe(200);
    const [rows] = await pdb.db.query(`SELECT barrier_id FROM ${pdb.table} WHERE gid = ? ORDER BY barrier_id`, { replacements: [gid] });
    expect(rows).toEqual([{ barrier_id: '01' }, { barrier_id: '02' }]);
    expect(await pdb.effects(gid)).toEqual(['first', 'second']);
  });

  it("when a message's local transaction committed, then query_prepared answers 200; when it never ran, 409", async () => {
    const done = uid('msg-');
    expect((await app.request(`/msg-local?gid=${done}`, { method: 'POST' })).status).toBe(200);
    expect((await call('/query-prepared', done, 'msg', undefined, 'msg')).status).toBe(200);
    const never = uid('msg-');
    const res = await call('/query-prepared', never, 'msg', undefined, 'msg');
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ dtm_result: 'FAILURE' });
  });
});
