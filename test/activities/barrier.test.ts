// The sub-transaction barrier (src/platform/barrier.ts) called directly against a real domain database (the orders
// store, with its own `barriers` table): duplicates, null compensations, hanging forward operations, a try racing its
// cancel, and business errors rolling the barrier back with the write.
import type { Sequelize, Transaction } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { reject } from '../../src/platform/activity';
import { withBarrier, type BarrierOp, type BranchRef, type ForwardOp, type UndoOp } from '../../src/platform/barrier';
import { createSequelize } from '../../src/platform/db/sequelize';
import { uid } from '../helpers/env';
import { barriersOf, effectsOf, ensureProbeTable, insertEffect, ProbeErrors } from '../workflows/fixtures/probe-activities';

const ROUNDS = 50;

describe('withBarrier', () => {
  let db: Sequelize;
  beforeAll(async () => {
    const config = loadConfig();
    db = createSequelize(config.db.urls.orders, config.db.pool);
    await ensureProbeTable(db);
  });
  afterAll(() => db?.close());

  const newBranch = (branchId = 'b1'): BranchRef => ({ flowId: uid('barrier-'), branchId });
  /** The barrier-guarded write of a probe: one effect row. */
  const run = (ref: BranchRef, op: BarrierOp) => withBarrier(db, ref, op, (t: Transaction) => insertEffect(db, ref, op, t));

  it('when a barrier transaction runs, then its connection is at READ COMMITTED and no statement sets the level per transaction', async () => {
    const statements: string[] = [];
    const traced = createSequelize(loadConfig().db.urls.orders, { ...loadConfig().db.pool, max: 1 });
    (traced as unknown as { options: { logging: unknown } }).options.logging = (sql: string) => statements.push(sql);
    try {
      const ref = newBranch();
      const level = await withBarrier(traced, ref, 'action', async (t) => {
        const [rows] = await traced.query('SELECT @@SESSION.tx_isolation AS level', { transaction: t });
        return (rows as Array<{ level: string }>)[0].level;
      });
      expect(level).toEqual({ outcome: 'applied', value: 'READ-COMMITTED' });
      expect(statements.filter((s) => /ISOLATION LEVEL/i.test(s))).toEqual([]);
      expect(statements.some((s) => /START TRANSACTION/i.test(s))).toBe(true);
    } finally {
      await traced.close();
    }
  });

  it.each<BarrierOp>(['action', 'compensate', 'try', 'confirm', 'cancel'])(
    'when %s runs twice for one branch, then its effect happens once and the second call is a duplicate',
    async (op) => {
      const ref = newBranch();
      const undoing = op === 'compensate' || op === 'cancel';
      // An undo only takes effect after the operation it undoes; run that first.
      if (undoing) expect((await run(ref, op === 'compensate' ? 'action' : 'try')).outcome).toBe('applied');
      const first = await run(ref, op);
      const second = await run(ref, op);
      expect(first).toEqual({ outcome: 'applied', value: undefined });
      expect(second).toEqual({ outcome: 'duplicate' });
      expect((await effectsOf(db, ref.flowId)).filter((e) => e === `b1:${op}`)).toEqual([`b1:${op}`]);
    },
  );

  it.each<[UndoOp, ForwardOp]>([
    ['compensate', 'action'],
    ['cancel', 'try'],
  ])(
    'when %s runs before its %s committed, then it is a null compensation with no effect, and the late forward op is hanging with no effect',
    async (undo, forward) => {
      const ref = newBranch();
      expect(await run(ref, undo)).toEqual({ outcome: 'null-compensation' });
      expect(await effectsOf(db, ref.flowId)).toEqual([]);
      expect(await run(ref, forward)).toEqual({ outcome: 'hanging' });
      expect(await run(ref, undo)).toEqual({ outcome: 'duplicate' });
      expect(await effectsOf(db, ref.flowId)).toEqual([]);
      expect(await barriersOf(db, ref.flowId)).toEqual([`b1:${forward}<-${undo}`, `b1:${undo}<-${undo}`].sort());
    },
  );

  it('when a try arrives after its cancel, then it is hanging, however often it is retried', async () => {
    const ref = newBranch();
    await run(ref, 'cancel');
    for (let i = 0; i < 3; i++) expect(await run(ref, 'try')).toEqual({ outcome: 'hanging' });
    expect(await effectsOf(db, ref.flowId)).toEqual([]);
  });

  it.each<[ForwardOp, UndoOp]>([
    ['try', 'cancel'],
    ['action', 'compensate'],
  ])(
    'when %s and %s race 50 times, then either both take effect or the undo is null and the forward op hangs, never a forward effect left undone',
    async (forward, undo) => {
      const seen = { bothApplied: 0, nullAndHanging: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const ref = newBranch(`race-${round}`);
        const [done, undone] = await Promise.all([run(ref, forward), run(ref, undo)]);
        const effects = (await effectsOf(db, ref.flowId)).map((e) => e.split(':')[1]);
        if (done.outcome === 'applied') {
          expect(undone.outcome, `round ${round}`).toBe('applied');
          expect(effects, `round ${round}`).toEqual([forward, undo]);
          seen.bothApplied++;
        } else {
          expect([done.outcome, undone.outcome], `round ${round}`).toEqual(['hanging', 'null-compensation']);
          expect(effects, `round ${round}`).toEqual([]);
          seen.nullAndHanging++;
        }
      }
      expect(seen.bothApplied + seen.nullAndHanging).toBe(ROUNDS);
    },
  );

  it('when the write throws a business error, then neither barrier row nor effect remains, and a retry applies once', async () => {
    const ref = newBranch();
    const rejected = withBarrier(db, ref, 'try', async (t) => {
      await insertEffect(db, ref, 'try', t);
      reject(ProbeErrors.Declined, 'not enough');
    });
    await expect(rejected).rejects.toMatchObject({ type: ProbeErrors.Declined, nonRetryable: true });
    expect(await barriersOf(db, ref.flowId)).toEqual([]);
    expect(await effectsOf(db, ref.flowId)).toEqual([]);

    expect(await run(ref, 'try')).toEqual({ outcome: 'applied', value: undefined });
    expect(await run(ref, 'try')).toEqual({ outcome: 'duplicate' });
    expect(await effectsOf(db, ref.flowId)).toEqual(['b1:try']);
    expect(await barriersOf(db, ref.flowId)).toEqual(['b1:try<-try']);
  });

  it('when a compensation write throws an infrastructure error, then its barrier row rolls back and a retry applies once', async () => {
    const ref2 = newBranch();
    await run(ref2, 'action');
    await expect(
      withBarrier(db, ref2, 'compensate', async (t) => {
        await insertEffect(db, ref2, 'compensate', t);
        throw new Error('connection reset');
      }),
    ).rejects.toThrow('connection reset');
    expect(await barriersOf(db, ref2.flowId)).toEqual(['b1:action<-action']);
    expect(await run(ref2, 'compensate')).toEqual({ outcome: 'applied', value: undefined });
    expect(await effectsOf(db, ref2.flowId)).toEqual(['b1:action', 'b1:compensate']);
  });
});
