// A store unit that polls only while its database answers (platform/temporal/gated-worker.ts), with the real Temporal
// server, real workers and the real ledger: while ledger-1's probe fails no ledger-1 task is taken (the transfers'
// credits wait in the queue), once it passes a worker is created and every transfer completes; when it fails again
// the worker is shut down. The probe is a switch here (the shared test databases are not ours to kill; the dev
// stack's self-healing test kills a real server).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTransferId } from '../../src/activities/ledger/reads';
import { gatedWorker } from '../../src/platform/temporal/gated-worker';
import { transferWorkflowId, type TransferInput, type TransferProgress } from '../../src/workflows/transfer/contract';
import { account, createAccount, createFlowsEnv, fastTimeouts, startWorkers, topologyFor, uid, type FlowsEnv } from '../helpers/env';
import { until } from '../helpers/wait';

describe('a store unit gated on its database', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('when the probe fails, then the unit takes no task; when it passes, then a worker polls and the flows complete; when it fails again, then that worker stops', async () => {
    const prefix = uid('gate-');
    const others = await startWorkers(ctx, prefix, { units: () => ['flows', 'ledger-0'] });
    const running = others.map((w) => w.run());
    let up = false;
    const created: Worker[] = [];
    const gate = gatedWorker({
      unit: 'ledger-1',
      create: async () => {
        const [w] = await startWorkers(ctx, prefix, { units: () => ['ledger-1'] });
        created.push(w);
        return w;
      },
      probe: async () => up,
      log: pino({ level: 'silent' }),
      intervalMs: 200,
    });
    const gated = gate.run();
    try {
      const source = await createAccount(ctx, 100_000, 'USD', { shard: 0 });
      const sink = await createAccount(ctx, 0, 'USD', { shard: 1 });
      const timeouts = { ...fastTimeouts, stepScheduleToCloseMs: 120_000 };
      const handles = await Promise.all(
        Array.from({ length: 5 }, () => {
          const id = newTransferId(ctx.stores, source);
          const input: TransferInput = { id, fromAccountId: source, toAccountId: sink, amount: 1_000, currency: 'USD', timeouts, topology: topologyFor(ctx, prefix) };
          return ctx.env.client.workflow.start('transferMoney', { taskQueue: `${prefix}-flows`, workflowId: transferWorkflowId(id), args: [input] });
        }),
      );
      await sleep(3_000);
      expect(gate.paused).toBe(true);
      expect(created).toHaveLength(0);
      expect((await account(ctx, sink))?.balance).toBe(0); // no credit taken on the unit that is down

      up = true;
      const results = (await Promise.all(handles.map((h) => h.result()))) as TransferProgress[];
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('COMPLETED'));
      expect((await account(ctx, sink))?.balance).toBe(5_000);
      expect(gate.paused).toBe(false);

      up = false;
      await until(() => gate.paused && created[0].getState() === 'STOPPED', 30_000);
      expect(created).toHaveLength(1);
    } finally {
      gate.shutdown();
      await gated;
      for (const w of others) w.shutdown();
      await Promise.all(running);
    }
  }, 120_000);
});
