// DTM's barrier for TypeScript participants (src/participant/barrier.ts) against a real MariaDB: DTM's table, duplicates,
// null compensations, hanging actions, business failures rolling back with their barrier rows, a try racing its cancel,
// and the 2-phase message's local transaction against its back-check.
import type { Transaction } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDtmBarrier, DtmFailure, type DtmBarrier, type DtmBranch } from '../../src/participant';
import { uid } from '../helpers/env';
import { createParticipantDb, type ParticipantDb } from './dtm-db';

describe('DTM barrier (participant kit)', () => {
  let pdb: ParticipantDb;
  let barrier: DtmBarrier;
  beforeAll(async () => {
    pdb = await createParticipantDb('dtmkit');
    barrier = createDtmBarrier(pdb.db, { table: pdb.table });
  });
  afterAll(() => pdb?.close());

  const branch = (transType: string, op: string, gid = uid('gid-')): DtmBranch => ({ transType, gid, branchId: '01', op });
  const effect = (b: DtmBranch) => (t: Transaction) =>
    pdb.db.query('INSERT INTO effects (gid, what) VALUES (?, ?)', { replacements: [b.gid, `${b.branchId}:${b.op}`], transaction: t });
  const run = (b: DtmBranch) => barrier.call(b, effect(b));
  const rows = async (gid: string) => {
    const [r] = await pdb.db.query(`SELECT trans_type, branch_id, op, barrier_id, reason FROM ${pdb.table} WHERE gid = ? ORDER BY op`, { replacements: [gid] });
    return r;
  };

  it("when the table is created, then it has DTM's columns and DTM's unique key (gid, branch_id, op, barrier_id)", async () => {
    const [cols] = await pdb.db.query('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position', { replacements: [pdb.name, 'barrier'] });
    expect((cols as Array<{ c: string }>).map((r) => r.c)).toEqual(['id', 'trans_type', 'gid', 'branch_id', 'op', 'barrier_id', 'reason', 'create_time', 'update_time']);
    const [keys] = await pdb.db.query("SELECT column_name AS c FROM information_schema.statistics WHERE table_schema = ? AND table_name = ? AND non_unique = 0 AND index_name <> 'PRIMARY' ORDER BY seq_in_index", { replacements: [pdb.name, 'barrier'] });
    expect((keys as Array<{ c: string }>).map((r) => r.c)).toEqual(['gid', 'branch_id', 'op', 'barrier_id']);
  });

  it.each([
    ['saga', 'action'],
    ['tcc', 'try'],
    ['tcc', 'confirm'],
    ['msg', 'action'],
  ])('when a %s %s is delivered twice, then its write happens once and the second is a duplicate', async (transType, op) => {
    const b = branch(transType, op);
    expect(await run(b)).toEqual({ outcome: 'applied', value: expect.anything() });
    expect(await run(b)).toEqual({ outcome: 'duplicate' });
    expect(await pdb.effects(b.gid)).toEqual([`01:${op}`]);
    expect(await rows(b.gid)).toEqual([{ trans_type: transType, branch_id: '01', op, barrier_id: '01', reason: op }]);
  });

  it.each([
    ['saga', 'action', 'compensate'],
    ['tcc', 'try', 'cancel'],
    ['xa', 'action', 'rollback'],
  ])('when a %s %s arrives after its %s, then the undo did nothing (null compensation) and the late forward call is refused (hanging)', async (transType, forward, undo) => {
    const gid = uid('gid-');
    expect(await run(branch(transType, undo, gid))).toEqual({ outcome: 'null-compensation' });
    expect(await run(branch(transType, forward, gid))).toEqual({ outcome: 'hanging' });
    expect(await pdb.effects(gid)).toEqual([]);
    expect(await rows(gid)).toEqual(
      [forward, undo].sort().map((op) => ({ trans_type: transType, branch_id: '01', op, barrier_id: '01', reason: undo })),
    );
  });

  it('when a compensation follows its action, then both writes happen, once each', async () => {
    const gid = uid('gid-');
    await run(branch('saga', 'action', gid));
    expect(await run(branch('saga', 'compensate', gid))).toMatchObject({ outcome: 'applied' });
    expect(await run(branch('saga', 'compensate', gid))).toEqual({ outcome: 'duplicate' });
    expect(await pdb.effects(gid)).toEqual(['01:action', '01:compensate']);
  });

  it('when an action fails for business reasons, then its barrier row rolls back with it and its compensation is a no-op', async () => {
    const gid = uid('gid-');
    const failing = barrier.call(branch('saga', 'action', gid), async (t) => {
      await effect(branch('saga', 'action', gid))(t);
      throw new DtmFailure('insufficient balance');
    });
    await expect(failing).rejects.toBeInstanceOf(DtmFailure);
    expect(await rows(gid)).toEqual([]);
    expect(await run(branch('saga', 'compensate', gid))).toEqual({ outcome: 'null-compensation' });
    expect(await pdb.effects(gid)).toEqual([]);
  });

  it('when a try races its cancel, then either both take effect (try first) or neither does, never the try alone', async () => {
    for (let round = 0; round < 20; round++) {
      const gid = uid('race-');
      const [tried, cancelled] = await Promise.all([run(branch('tcc', 'try', gid)), run(branch('tcc', 'cancel', gid))]);
      const effects = await pdb.effects(gid);
      if (tried.outcome === 'applied') {
        expect(cancelled.outcome).toBe('applied');
        expect(effects).toEqual(['01:try', '01:cancel']);
      } else {
        expect([tried.outcome, cancelled.outcome]).toEqual(['hanging', 'null-compensation']);
        expect(effects).toEqual([]);
      }
    }
  });

  it("when a message's local transaction committed, then its back-check answers committed and a second run is refused", async () => {
    const gid = uid('msg-');
    await barrier.msgLocal(gid, async (t) => effect({ transType: 'msg', gid, branchId: '00', op: 'msg' })(t));
    expect(await barrier.queryPrepared(gid)).toBe('committed');
    await expect(barrier.msgLocal(gid, async () => undefined)).rejects.toBeInstanceOf(DtmFailure);
    expect(await pdb.effects(gid)).toEqual(['00:msg']);
  });

  it('when the back-check comes before the local transaction commits, then it answers rolled back and the transaction is refused', async () => {
    const gid = uid('msg-');
    expect(await barrier.queryPrepared(gid)).toBe('rolled-back');
    expect(await barrier.queryPrepared(gid)).toBe('rolled-back');
    await expect(barrier.msgLocal(gid, async (t) => effect({ transType: 'msg', gid, branchId: '00', op: 'msg' })(t))).rejects.toBeInstanceOf(DtmFailure);
    expect(await pdb.effects(gid)).toEqual([]);
    expect(await rows(gid)).toEqual([{ trans_type: 'msg', branch_id: '00', op: 'msg', barrier_id: '01', reason: 'rollback' }]);
  });

  it('when a table name is not a plain identifier, then the barrier refuses it', () => {
    expect(() => createDtmBarrier(pdb.db, { table: 'barrier; DROP TABLE x' })).toThrow(/not a table name/);
  });
});
