// Replays the recorded history of every path of both flows (test/fixtures/histories, re-recorded with
// `npm run histories:record`) against today's workflow bundle, the one global setup builds from the flows registry: a
// change to a workflow's command sequence that is not guarded by patched() fails here, before it can break running
// flows in production. A variant with one extra command proves that the replay does fail on such a change.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testTracingPlugin } from '../helpers/env';

const dir = join(process.cwd(), 'test/fixtures/histories');
const files = readdirSync(dir).filter((f) => /^(transfer|order)-.*\.json$/.test(f));
const load = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), 'utf8')); // the SDK reads the CLI's JSON form

/** The paths record-histories.test.ts records: each must have its history. */
const paths = [
  'transfer-completed',
  'transfer-insufficient-funds',
  'transfer-refunded',
  'transfer-batch', // recorded before coalesce-when-settled: kept, never re-recorded
  'transfer-batch-cancelled', // likewise
  'transfer-batch-settled',
  'transfer-batch-settled-cancelled',
  'transfer-tcc-confirmed',
  'transfer-tcc-cancelled',
  'transfer-xa-committed',
  'transfer-xa-rolled-back',
  'order-confirmed',
  'order-out-of-stock',
  'order-insufficient-funds',
  'order-currency-mismatch',
  'order-approved',
  'order-cancelled-in-approval',
  'order-cancelled-while-trying',
  'order-approval-timed-out',
];

describe('replay of recorded flow histories', () => {
  it('covers every path of both flows, and no history of a workflow that no longer exists', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual([...paths].sort());
    expect(readdirSync(dir).filter((f) => f.startsWith('pre-patch-'))).toEqual([]);
  });

  it.each(files)('when %s is replayed on the current code, then it is deterministic', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, plugins: [testTracingPlugin()] }, load(file), file);
  });

  describe('with changed workflow code', () => {
    // Written under node_modules/.cache so that its bare imports resolve like the project's own; plain ESM.
    let tmp: string;
    beforeAll(() => {
      const cache = resolve('node_modules', '.cache', 'sagaflow-tests');
      mkdirSync(cache, { recursive: true });
      tmp = mkdtempSync(join(cache, 'flows-replay-'));
    });
    afterAll(() => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('when transferMoney schedules a timer before its first step, then the recorded history fails with a DeterminismViolationError', async () => {
      const variant = join(tmp, 'transfer-with-timer.mjs');
      const current = resolve('src/workflows/transfer/workflow.ts');
      writeFileSync(
        variant,
        [
          `import { sleep } from '@temporalio/workflow';`,
          `import { transferMoney as current } from ${JSON.stringify(current)};`,
          `export async function transferMoney(input) { await sleep(10); return current(input); }`,
          '',
        ].join('\n'),
      );
      const noop = () => undefined;
      const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
      const changed = await bundleWorkflowCode({ workflowsPath: variant, logger });
      await expect(Worker.runReplayHistory({ workflowBundle: changed }, load('transfer-completed.json'), 'transfer-completed.json')).rejects.toBeInstanceOf(
        DeterminismViolationError,
      );
    });
  });
});
