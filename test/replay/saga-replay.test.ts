// Replay: a recorded history of a probe saga that compensates (a parallel group, a compensation retried by untilDone,
// a rejected last step) must replay against the current Saga/Progress/retry code of src/platform/workflow without
// non-determinism. A change to the workflow code that alters its commands makes this test fail.
//
// The fixture is committed; to re-record it (after an intended, versioned change), run once with the services up:
//   RECORD_HISTORIES=1 npm test -- test/replay/saga-replay.test.ts
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlowsEnv, uid } from '../helpers/env';
import { createProbeActivities, ensureProbeTable } from '../workflows/fixtures/probe-activities';
import { probeSaga, type ProbeSagaInput } from '../workflows/fixtures/probe-workflows';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

const probeWorkflowsPath = join(__dirname, '..', 'workflows', 'fixtures', 'probe-workflows.ts');
const fixturePath = resolve('test/fixtures/histories/saga-probe.json');

/** The rejection type the fixture was recorded with. Any non-retryable typed failure is a rejection to the platform;
 * this one is kept so that the input below stays the input of the committed history. */
const recordedRejection = 'InsufficientFunds';

/** The recorded run: step-1, a parallel group, then a rejected step-3; step-1's compensation fails three times. */
const recordedInput: ProbeSagaInput = {
  steps: [
    { name: 'step-1', compensate: { failTimes: 3 } },
    [{ name: 'par-a' }, { name: 'par-b' }],
    { name: 'step-3', action: { reject: recordedRejection } },
  ],
};

describe('saga replay', () => {
  let code: string;
  beforeAll(async () => {
    ({ code } = await bundleWorkflowCode({ workflowsPath: probeWorkflowsPath, logger: quietLogger }));
  });

  it.runIf(process.env.RECORD_HISTORIES === '1')('records the compensating probe saga history (RECORD_HISTORIES=1)', async () => {
    const ctx = await createFlowsEnv({ PAYLOAD_KEYS: '' }); // fixtures are recorded unencrypted (see record-histories)
    try {
      await ensureProbeTable(ctx.db);
      const taskQueue = uid('tq-');
      const worker = await Worker.create({
        connection: ctx.env.nativeConnection,
        namespace: ctx.config.temporal.namespace,
        taskQueue,
        workflowBundle: { code },
        activities: createProbeActivities({ db: ctx.db }),
      });
      const handle = await ctx.env.client.workflow.start(probeSaga, { taskQueue, workflowId: uid('saga-replay-'), args: [recordedInput] });
      const result = await worker.runUntil(handle.result());
      expect(result).toMatchObject({ status: 'COMPENSATED', reason: { code: recordedRejection } });
      const history = await handle.fetchHistory();
      writeFileSync(fixturePath, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
    } finally {
      await ctx.close();
    }
  });

  const loadHistory = () => historyFromJSON(JSON.parse(readFileSync(fixturePath, 'utf8')));

  it('when the recorded compensating saga is replayed against the current workflow code, then it replays deterministically', async () => {
    const history = loadHistory();
    // The fixture is the run it claims to be: compensations, an untilDone timer, and a completed workflow.
    const events = history.events ?? [];
    const [started] = events.map((e) => e.workflowExecutionStartedEventAttributes).filter(Boolean);
    expect(started?.workflowType?.name).toBe('probeSaga');
    expect(JSON.parse(Buffer.from(started!.input!.payloads![0].data!).toString('utf8'))).toEqual(recordedInput);
    // 4 forward steps, 4 compensations (one a null compensation), and step-1's compensation called a second time.
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(9);
    expect(events.filter((e) => e.timerStartedEventAttributes).length).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.workflowExecutionCompletedEventAttributes)).toHaveLength(1);

    await expect(Worker.runReplayHistory({ workflowBundle: { code } }, history)).resolves.toBeUndefined();
  });

  describe('with changed workflow code', () => {
    // A variant bundle: the same workflow with a timer added before it. Written under node_modules/.cache so that its
    // bare imports resolve like the project's own; plain ESM, so it needs no transpiling.
    let dir: string;
    beforeAll(() => {
      const cache = resolve('node_modules', '.cache', 'sagaflow-tests');
      mkdirSync(cache, { recursive: true });
      dir = mkdtempSync(join(cache, 'replay-'));
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('when the code schedules different commands than the history recorded, then the replay fails with a DeterminismViolationError', async () => {
      const variant = join(dir, 'probe-saga-with-timer.mjs');
      writeFileSync(
        variant,
        [
          `import { sleep } from '@temporalio/workflow';`,
          `import { probeSaga as current } from ${JSON.stringify(probeWorkflowsPath)};`,
          `export async function probeSaga(input) { await sleep(10); return current(input); }`,
          '',
        ].join('\n'),
      );
      const changed = await bundleWorkflowCode({ workflowsPath: variant, logger: quietLogger });
      await expect(Worker.runReplayHistory({ workflowBundle: changed }, loadHistory())).rejects.toBeInstanceOf(DeterminismViolationError);
    });
  });
});
