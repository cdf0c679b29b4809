// The Saga helper (src/platform/workflow/saga.ts) driven by a probe workflow over the real Temporal server, with
// barrier-guarded probe activities writing to a real domain database (the orders store): every effect is a row, so
// "compensated exactly once, in reverse" is countable.
import { join } from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type WorkerOptions } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepErrors } from '../../src/platform/workflow/errors';
import { dataConverterFor } from '../../src/platform/codec/data-converter';
import { createFlowsEnv, uid, type FlowsEnv } from '../helpers/env';
import { barriersOf, createProbeActivities, effectsOf, ensureProbeTable, ProbeErrors, type ProbeOutcome } from './fixtures/probe-activities';
import { probeProgressQuery, probeSaga, type ProbeSagaInput, type ProbeStep } from './fixtures/probe-workflows';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

/** Polls `fn` until it returns a truthy value. */
async function eventually<T>(fn: () => Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type SeenOutcome = ProbeOutcome & { flowId: string; attempt: number };

const steps = (n: number, overrides: Record<number, Partial<ProbeStep>> = {}): ProbeStep[] =>
  Array.from({ length: n }, (_, i) => ({ name: `step-${i + 1}`, ...overrides[i + 1] }));

describe('Saga', () => {
  let ctx: FlowsEnv;
  let code: string;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
    await ensureProbeTable(ctx.db);
    ({ code } = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'fixtures', 'probe-workflows.ts'), logger: quietLogger }));
  });
  afterAll(() => ctx?.close());

  /** A worker on `taskQueue` running the probe bundle; `seen` collects every barrier outcome its activities met. */
  const createWorker = (taskQueue: string, seen: SeenOutcome[] = [], options: Partial<WorkerOptions> = {}) =>
    Worker.create({
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

  /** Runs a probe saga to its end on a fresh task queue; `during` runs with the handle while the worker polls. */
  async function runSaga(input: ProbeSagaInput, during?: (handle: WorkflowHandle<typeof probeSaga>) => Promise<unknown>) {
    const taskQueue = uid('tq-');
    const flowId = uid('saga-');
    const seen: SeenOutcome[] = [];
    const worker = await createWorker(taskQueue, seen);
    return worker.runUntil(async () => {
      const handle = await ctx.env.client.workflow.start(probeSaga, { taskQueue, workflowId: flowId, args: [input] });
      if (during) await during(handle);
      const result = await handle.result().catch((err: unknown) => err);
      const progress = await handle.query(probeProgressQuery);
      const description = await handle.describe();
      return { flowId, result, progress, status: description.status.name, seen };
    });
  }

  it('when every step succeeds, then each takes effect once, nothing is compensated and progress shows them done', async () => {
    const { flowId, result } = await runSaga({ steps: steps(3) });
    expect(result).toMatchObject({ status: 'COMPLETED' });
    expect(await effectsOf(ctx.db, flowId)).toEqual(['step-1:action', 'step-2:action', 'step-3:action']);
    expect((result as { steps: unknown[] }).steps).toEqual([
      expect.objectContaining({ name: 'step-1', state: 'done' }),
      expect.objectContaining({ name: 'step-2', state: 'done' }),
      expect.objectContaining({ name: 'step-3', state: 'done' }),
    ]);
  });

  it.each([1, 2, 3])(
    'when step %i of 3 is rejected, then exactly the earlier steps are compensated in reverse and the failed step gets a null compensation',
    async (failAt) => {
      const { flowId, result, status } = await runSaga({ steps: steps(3, { [failAt]: { action: { reject: ProbeErrors.Declined } } }) });
      expect(status).toBe('COMPLETED');
      expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: ProbeErrors.Declined } });

      const earlier = Array.from({ length: failAt - 1 }, (_, i) => `step-${i + 1}`);
      expect(await effectsOf(ctx.db, flowId)).toEqual([
        ...earlier.map((s) => `${s}:action`),
        ...[...earlier].reverse().map((s) => `${s}:compensate`),
      ]);
      const { outcomes, steps: progress } = result as { outcomes: Record<string, string>; steps: Array<{ name: string; state: string; error?: string }> };
      expect(outcomes[`step-${failAt}:compensate`]).toBe('null-compensation');
      for (const s of earlier) expect(outcomes[`${s}:compensate`]).toBe('applied');
      // The failed step's compensation ran (as a no-op), and the barrier now refuses a late action of that step.
      expect(await barriersOf(ctx.db, flowId)).toEqual(
        expect.arrayContaining([`step-${failAt}:action<-compensate`, `step-${failAt}:compensate<-compensate`]),
      );
      expect(progress.map((s) => s.name)).toEqual([...earlier, `step-${failAt}`]);
      for (const s of earlier) expect(progress.find((p) => p.name === s)).toMatchObject({ state: 'compensated' });
      expect(progress.find((p) => p.name === `step-${failAt}`)).toMatchObject({ state: 'compensated', error: expect.stringContaining('rejected') });
    },
  );

  it('when a step with nothing to undo is rejected, then progress shows it failed and the earlier step compensated', async () => {
    const { flowId, result } = await runSaga({
      steps: steps(2, { 2: { action: { reject: ProbeErrors.SoldOut }, compensate: false } }),
    });
    expect(result).toMatchObject({
      status: 'COMPENSATED',
      reason: { code: ProbeErrors.SoldOut },
      steps: [
        expect.objectContaining({ name: 'step-1', state: 'compensated' }),
        expect.objectContaining({ name: 'step-2', state: 'failed', error: expect.stringContaining('rejected') }),
      ],
    });
    expect(await effectsOf(ctx.db, flowId)).toEqual(['step-1:action', 'step-1:compensate']);
  });

  it('when a step keeps failing with a typed but retryable failure until its time runs out, then the reason is DependencyUnavailable, not that type', async () => {
    const { flowId, result } = await runSaga({
      steps: steps(2, { 2: { action: { failTimes: 1_000, failAs: 'ProbeFlaky' }, timeouts: { startToCloseMs: 1_000, scheduleToCloseMs: 1_500 } } }),
    });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: StepErrors.DependencyUnavailable } });
    // Every failed attempt rolled back with its barrier transaction: only step 1 took effect, and it was undone.
    expect(await effectsOf(ctx.db, flowId)).toEqual(['step-1:action', 'step-1:compensate']);
    expect((result as { outcomes: Record<string, string> }).outcomes).toMatchObject({ 'step-2:compensate': 'null-compensation' });
  });

  it('when a compensation fails several times before it succeeds, then it is retried until done and takes effect once', async () => {
    const { flowId, result } = await runSaga({
      steps: steps(3, { 1: { compensate: { failTimes: 3 } }, 3: { action: { reject: ProbeErrors.Declined } } }),
    });
    expect(result).toMatchObject({ status: 'COMPENSATED' });
    expect(await effectsOf(ctx.db, flowId)).toEqual(['step-1:action', 'step-2:action', 'step-2:compensate', 'step-1:compensate']);
    // Two attempts per call (the undo retry policy), so the third failure made untilDone call the activity again.
    expect((result as { steps: unknown[] }).steps).toContainEqual(
      expect.objectContaining({ name: 'step-1', state: 'compensated', retries: 1, error: expect.stringContaining('infrastructure failure 2 of 3') }),
    );
  });

  it('when the saga is cancelled while it waits after step 2, then steps 2 and 1 are compensated and the workflow ends cancelled', async () => {
    const { flowId, result, status, progress } = await runSaga({ steps: steps(3), waitAfter: 'step-2' }, async (handle) => {
      await eventually(async () => (await handle.query(probeProgressQuery)).steps.find((s) => s.name === 'step-2')?.state === 'done', 'step 2 done');
      await handle.cancel();
    });
    expect(result).toBeInstanceOf(WorkflowFailedError);
    expect((result as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(status).toBe('CANCELLED');
    expect(await effectsOf(ctx.db, flowId)).toEqual(['step-1:action', 'step-2:action', 'step-2:compensate', 'step-1:compensate']);
    expect(progress).toMatchObject({
      status: 'COMPENSATED',
      steps: [
        expect.objectContaining({ name: 'step-1', state: 'compensated' }),
        expect.objectContaining({ name: 'step-2', state: 'compensated' }),
      ],
    });
  });

  it('when one branch of a parallel group is rejected, then every branch that took effect is compensated once, after the group settled', async () => {
    const slow = { action: { delayMs: 300 } };
    const { flowId, result } = await runSaga({
      steps: [
        { name: 'step-1' },
        [
          { name: 'par-a', ...slow },
          { name: 'par-b', action: { reject: ProbeErrors.SoldOut } },
          { name: 'par-c', ...slow },
        ],
        { name: 'step-3' },
      ],
    });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: ProbeErrors.SoldOut } });
    const effects = await effectsOf(ctx.db, flowId);
    expect(effects).toHaveLength(6);
    expect(effects[0]).toBe('step-1:action');
    expect(effects.slice(1, 3).sort()).toEqual(['par-a:action', 'par-c:action']);
    expect(effects.slice(3, 5).sort()).toEqual(['par-a:compensate', 'par-c:compensate']);
    expect(effects[5]).toBe('step-1:compensate');
    expect((result as { outcomes: Record<string, string> }).outcomes).toMatchObject({
      'par-a:compensate': 'applied',
      'par-b:compensate': 'null-compensation',
      'par-c:compensate': 'applied',
    });
    expect((result as { steps: Array<{ name: string }> }).steps.map((s) => s.name)).not.toContain('step-3');
  });

  it('when a step commits and then Temporal times it out until the saga gives up, then it is compensated exactly once', async () => {
    const { flowId, result, seen } = await runSaga({
      steps: steps(3, { 2: { action: { hangAfterCommitMs: 2_000 }, timeouts: { startToCloseMs: 300, scheduleToCloseMs: 2_500 } } }),
    });
    expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: StepErrors.DependencyUnavailable } });
    expect(await effectsOf(ctx.db, flowId)).toEqual(['step-1:action', 'step-2:action', 'step-2:compensate', 'step-1:compensate']);
    expect((result as { outcomes: Record<string, string> }).outcomes).toMatchObject({ 'step-2:compensate': 'applied', 'step-1:compensate': 'applied' });
    // Temporal did retry the timed-out attempt: the barrier turned the retry into a duplicate.
    const step2 = seen.filter((o) => o.branchId === 'step-2' && o.op === 'action');
    expect(step2.filter((o) => o.outcome === 'applied')).toHaveLength(1);
    expect(step2.filter((o) => o.outcome !== 'applied').every((o) => o.outcome === 'duplicate')).toBe(true);
    expect(Math.max(...step2.map((o) => o.attempt))).toBeGreaterThan(1);
    expect(await barriersOf(ctx.db, flowId)).toEqual(
      ['step-1:action<-action', 'step-1:compensate<-compensate', 'step-2:action<-action', 'step-2:compensate<-compensate'].sort(),
    );
  });

  it.each([
    ['sleeps before writing', { delayMs: 2_500, firstAttemptOnly: true }, ['step-1:action'], 'applied'],
    ['has written and sleeps before returning', { hangAfterCommitMs: 2_500, firstAttemptOnly: true }, ['step-1:action', 'step-2:action'], 'duplicate'],
  ] as const)(
    'when the worker shuts down while step 2 %s, then a new worker on the task queue completes the saga with each effect once',
    async (_, action, effectsAtShutdown, step2Outcome) => {
      const taskQueue = uid('tq-');
      const flowId = uid('saga-');
      const input: ProbeSagaInput = { steps: steps(3, { 2: { action, timeouts: { startToCloseMs: 3_000, scheduleToCloseMs: 20_000 } } }) };
      const first = await createWorker(taskQueue);
      const running = first.run();
      const handle = await ctx.env.client.workflow.start(probeSaga, { taskQueue, workflowId: flowId, args: [input] });
      await eventually(async () => {
        const view = await handle.query(probeProgressQuery);
        const { raw } = await handle.describe();
        return view.steps.find((s) => s.name === 'step-2')?.state === 'running' && raw.pendingActivities?.some((a) => a.state === 2 /* PENDING_ACTIVITY_STATE_STARTED */);
      }, 'step 2 started');
      if (effectsAtShutdown.length === 2) await eventually(async () => (await effectsOf(ctx.db, flowId)).length === 2, 'step 2 committed');
      first.shutdown();
      await running;
      expect(await effectsOf(ctx.db, flowId)).toEqual(effectsAtShutdown);

      const second = await createWorker(taskQueue);
      const result = await second.runUntil(handle.result());
      expect(result.status).toBe('COMPLETED');
      expect(result.outcomes['step-2:action']).toBe(step2Outcome);
      expect(result.steps.map((s) => [s.name, s.state])).toEqual([
        ['step-1', 'done'],
        ['step-2', 'done'],
        ['step-3', 'done'],
      ]);
      expect(await effectsOf(ctx.db, flowId)).toEqual(['step-1:action', 'step-2:action', 'step-3:action']);
    },
  );
});
