// How a batch run's Coalescer groups requests into activity calls, on a real worker and server: by an explicit rule
// (sealed at the first condition check, once the workflow has run every continuation it can), so extra `await`s on
// a requester's path do not change which calls are scheduled. The rule of runs recorded before the patch (16 microtask
// turns) is shown to split under the same change.
import { join } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataConverterFor } from '../../src/platform/codec/data-converter';
import { createFlowsEnv, uid, type FlowsEnv } from '../helpers/env';
import type { CoalesceProbeActivities, probeCoalesce } from './fixtures/coalesce-workflows';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

describe('Coalescer grouping', () => {
  let ctx: FlowsEnv;
  let code: string;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
    ({ code } = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'fixtures', 'coalesce-workflows.ts'), logger: quietLogger }));
  });
  afterAll(() => ctx?.close());

  const activities: CoalesceProbeActivities = { echoItems: async (items) => items.map((ok) => ({ ok })) };

  async function groups(input: Parameters<typeof probeCoalesce>[0]): Promise<number[]> {
    const taskQueue = uid('tq-');
    const worker = await Worker.create({ connection: ctx.env.nativeConnection, namespace: ctx.config.temporal.namespace, taskQueue, workflowBundle: { code }, debugMode: true, activities, dataConverter: dataConverterFor(ctx.config.codec.keys) });
    return worker.runUntil(ctx.env.client.workflow.execute('probeCoalesce', { taskQueue, workflowId: uid('coalesce-'), args: [input] }));
  }

  it('when requesters reach a step after different numbers of awaits, then they still share one call', async () => {
    expect(await groups({ gather: 'settled', awaitsBefore: [0, 0, 0, 0] })).toEqual([4]);
    expect(await groups({ gather: 'settled', awaitsBefore: [0, 3, 40, 200] })).toEqual([4]);
  });

  it('when the pre-patch rule meets the same extra awaits, then the calls split (why it was replaced)', async () => {
    expect(await groups({ gather: 'microtasks', awaitsBefore: [0, 0, 0, 0] })).toEqual([4]);
    expect(await groups({ gather: 'microtasks', awaitsBefore: [0, 3, 40, 200] })).not.toEqual([4]);
  });
});
