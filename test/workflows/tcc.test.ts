// The TCC helper (src/platform/workflow/tcc.ts) driven by a probe workflow over the real Temporal server, with
// barrier-guarded probe participants writing one row per try/confirm/cancel that takes effect, in a real domain
// database (the orders store).
import { join } from 'node:path';
import { bundleWorkflowCode, Worker, type WorkerOptions } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepErrors } from '../../src/platform/workflow/errors';
import { dataConverterFor } from '../../src/platform/codec/data-converter';
import { createFlowsEnv, uid, type FlowsEnv } from '../helpers/env';
import { barriersOf, createProbeActivities, effectsOf, ensureProbeTable, ProbeErrors, type ProbeOutcome } from './fixtures/probe-activities';
import { probeTcc, type ProbeTccInput } from './fixtures/probe-workflows';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

type SeenOutcome = ProbeOutcome & { flowId: string; attempt: number };

describe('Tcc', () => {
  let ctx: FlowsEnv;
  let code: string;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
    await ensureProbeTable(ctx.db);
    ({ code } = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'fixtures', 'probe-workflows.ts'), logger: quietLogger }));
  });
  afterAll(() => ctx?.close());

  /** Runs a probe TCC to its end on a fresh task queue; also returns every barrier outcome the activities saw. */
  async function runTcc(input: ProbeTccInput, options: Partial<WorkerOptions> = {}) {
    const taskQueue = uid('tq-');
    const flowId = uid('tcc-');
    const seen: SeenOutcome[] = [];
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection,
      dataConverter: dataConverterFor(ctx.config.codec.keys),
      namespace: ctx.config.temporal.namespace,
      taskQueue,
      workflowBundle: { code },
      // Workflows on the main thread: no per-worker thread that loads the bundle again (~1 s per test); same sandbox.
      debugMode: true,
      activities: createProbeActivities({ db: ctx.db, onOutcome: (o) => seen.push(o) }),
      ...options,
    });
    const result = await worker.runUntil(ctx.env.client.workflow.execute(probeTcc, { taskQueue, workflowId: flowId, args: [input] }));
    return { flowId, result, seen };
  }

  const names = ['stock-1', 'stock-2', 'payment'];

  it('when every try succeeds, then every participant is confirmed once and none is cancelled', async () => {
    const { flowId, result } = await runTcc({ participants: names.map((name) => ({ name })) });
    expect(result.status).toBe('CONFIRMED');
    const effects = await effectsOf(ctx.db, flowId);
    expect(effects.slice(0, 3).sort()).toEqual(names.map((n) => `${n}:try`).sort());
    expect(effects.slice(3).sort()).toEqual(names.map((n) => `${n}:confirm`).sort());
    expect(effects.filter((e) => e.endsWith(':cancel'))).toEqual([]);
    for (const n of names) {
      expect(result.steps).toContainEqual(expect.objectContaining({ name: `${n}:try`, state: 'done' }));
      expect(result.steps).toContainEqual(expect.objectContaining({ name: `${n}:confirm`, state: 'done' }));
    }
  });

  it('when one try is rejected, then every participant is cancelled and the rejected one is a null compensation', async () => {
    const { flowId, result } = await runTcc({
      participants: [
        { name: 'stock-1', try: { delayMs: 200 } },
        { name: 'stock-2', try: { reject: ProbeErrors.SoldOut } },
        { name: 'payment', try: { delayMs: 200 } },
      ],
    });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: ProbeErrors.SoldOut } });
    expect(result.outcomes).toMatchObject({ 'stock-1:cancel': 'applied', 'stock-2:cancel': 'null-compensation', 'payment:cancel': 'applied' });
    const effects = await effectsOf(ctx.db, flowId);
    // The slow tries settled before any cancel started, and the rejected participant never took effect.
    expect(effects.slice(0, 2).sort()).toEqual(['payment:try', 'stock-1:try']);
    expect(effects.slice(2).sort()).toEqual(['payment:cancel', 'stock-1:cancel']);
    expect(effects.some((e) => e.endsWith(':confirm'))).toBe(false);
    expect(await barriersOf(ctx.db, flowId)).toEqual(expect.arrayContaining(['stock-2:cancel<-cancel', 'stock-2:try<-cancel']));
    for (const n of names) expect(result.steps).toContainEqual(expect.objectContaining({ name: `${n}:try`, state: 'compensated' }));
  });

  it('when a try keeps timing out before it commits, then the TCC cancels it as a null compensation and the late try hangs without effect', async () => {
    const { flowId, result, seen } = await runTcc(
      {
        participants: [
          { name: 'stock-1' },
          // Every attempt sleeps far past its timeouts (the server's timers fire with ~1 s precision).
          { name: 'payment', try: { delayMs: 5_000 }, tryTimeouts: { startToCloseMs: 300, scheduleToCloseMs: 700 } },
        ],
      },
      // Let the timed-out attempts wake up and reach the barrier before the worker stops.
      { shutdownGraceTime: '10s' },
    );
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: StepErrors.DependencyUnavailable } });
    expect(result.outcomes).toMatchObject({ 'stock-1:cancel': 'applied', 'payment:cancel': 'null-compensation' });
    expect(await effectsOf(ctx.db, flowId)).toEqual(['stock-1:try', 'stock-1:cancel']);
    expect(await barriersOf(ctx.db, flowId)).toEqual(
      ['payment:cancel<-cancel', 'payment:try<-cancel', 'stock-1:cancel<-cancel', 'stock-1:try<-try'].sort(),
    );
    // The timed-out attempts still woke up and reached the barrier after the cancel: refused, no effect.
    const lateTries = seen.filter((o) => o.branchId === 'payment' && o.op === 'try').map((o) => o.outcome);
    expect(lateTries.length).toBeGreaterThan(0);
    expect(lateTries.every((o) => o === 'hanging')).toBe(true);
  });

  it('when a confirm fails twice before it succeeds, then it is retried and confirmed exactly once', async () => {
    const { flowId, result, seen } = await runTcc({
      participants: [{ name: 'stock-1' }, { name: 'payment', confirm: { failTimes: 2 } }],
    });
    expect(result.status).toBe('CONFIRMED');
    const effects = await effectsOf(ctx.db, flowId);
    expect(effects.filter((e) => e === 'payment:confirm')).toEqual(['payment:confirm']);
    expect(effects.filter((e) => e.endsWith(':cancel'))).toEqual([]);
    expect(effects.slice(2).sort()).toEqual(['payment:confirm', 'stock-1:confirm']);
    // Both attempts of the first call failed (the undo retry policy), so the TCC called confirm again.
    expect(result.steps).toContainEqual(
      expect.objectContaining({ name: 'payment:confirm', state: 'done', retries: 1, error: expect.stringContaining('infrastructure failure 2 of 2') }),
    );
    expect(seen.filter((o) => o.branchId === 'payment' && o.op === 'confirm').map((o) => o.outcome)).toEqual(['applied']);
  });
});
