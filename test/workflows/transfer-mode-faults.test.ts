// TCC and XA transfers when workers die at each boundary, through the real workers, Temporal server and both MariaDB
// servers. A dying worker is an activity attempt whose result never reaches Temporal — lost before the step ran, or
// after it took effect — retried on the next attempt, or a whole worker set stopped and replaced; a shard whose worker
// stays away fails its step past the step budget. Each run ends COMPLETED or undone, with money conserved and
// nothing prepared (XA RECOVER), held (frozen) or pending left.
import type { ActivityInterceptorsFactory, Worker } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTransferId } from '../../src/activities/ledger/reads';
import { transferProgressQuery, transferWorkflowId, type Consistency, type TransferProgress } from '../../src/workflows/transfer/contract';
import { recoverPrepared, temporalDecider, xaTarget, type Decider } from '../../src/platform/xa-recovery';
import { account, createAccount, createFlowsEnv, fastTimeouts, moneyIn, pendingOf, preparedXa, startWorkers, topologyFor, uid, withWorker, type FlowsEnv } from '../helpers/env';
import { until } from '../helpers/wait';

type Fault = (info: { type: string; branchId?: string; attempt: number }) => 'lose-before' | 'lose-after' | 'late' | 'fail' | undefined;

/** Attempts that ran late (after their step was given up): what each one came to. */
const lateAttempts: Promise<string>[] = [];

/** Turns a fault plan into an activity interceptor: a lost attempt waits out its start-to-close, as a dead worker's. */
function faults(plan: Fault): ActivityInterceptorsFactory {
  return (actx) => ({
    inbound: {
      execute: async (input, next) => {
        const arg = input.args[0] as { branchId?: string } | undefined;
        const what = plan({ type: actx.info.activityType, branchId: arg?.branchId, attempt: actx.info.attempt });
        if (what === 'fail') throw new Error('injected: the shard is unreachable');
        if (what === 'late') {
          // A slow worker: the attempt starts after the flow gave up on it (and cancelled), then reaches the database.
          const late = sleep(fastTimeouts.stepStartToCloseMs + 500).then(() => next(input)).then(
            (r) => `ran: ${JSON.stringify(r)}`,
            (err) => `refused: ${(err as Error).message}`,
          );
          lateAttempts.push(late);
          return late;
        }
        if (what === 'lose-before') {
          await sleep(fastTimeouts.stepStartToCloseMs + 500);
          throw new Error('injected: the worker died before running the step');
        }
        const result = await next(input);
        if (what === 'lose-after') {
          await sleep(fastTimeouts.stepStartToCloseMs + 500);
          throw new Error('injected: the worker died after the step took effect');
        }
        return result;
      },
    },
  });
}

describe('transfer modes under failures', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  async function accounts() {
    const from = await createAccount(ctx, 10_000, 'USD', { shard: 0 });
    const to = await createAccount(ctx, 1_000, 'USD', { shard: 1 });
    return { from, to, second: from < to ? 'xa-to' : 'xa-from', first: from < to ? 'xa-from' : 'xa-to' };
  }

  function input(mode: Consistency, from: string, to: string, topology: ReturnType<typeof topologyFor>, timeouts = fastTimeouts) {
    const id = newTransferId(ctx.stores, from);
    return { id, fromAccountId: from, toAccountId: to, amount: 2_500, currency: 'USD', consistency: mode, timeouts, topology };
  }

  async function run(mode: Consistency, from: string, to: string, plan: Fault, timeouts = fastTimeouts) {
    return withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const args = input(mode, from, to, topology, timeouts);
        const result: TransferProgress = await ctx.env.client.workflow.execute('transferMoney', { taskQueue, workflowId: transferWorkflowId(args.id), args: [args] });
        return { id: args.id, result };
      },
      { overrides: { interceptors: { activity: [faults(plan)] } } },
    );
  }

  async function leftClean(id: string, from: string, to: string, moved: number) {
    expect(await preparedXa(ctx, transferWorkflowId(id))).toEqual([]);
    expect(await account(ctx, from)).toEqual({ balance: 10_000 - moved, frozen: 0 });
    expect(await account(ctx, to)).toEqual({ balance: 1_000 + moved, frozen: 0 });
    expect([await pendingOf(ctx, from), await pendingOf(ctx, to)]).toEqual([0, 0]);
    expect(await moneyIn(ctx, [from, to])).toBe(11_000);
  }

  it('xa: when the worker dies before the second branch prepares (the first prepared), then the retry prepares it and both commit', async () => {
    const { from, to, second } = await accounts();
    const { id, result } = await run('xa', from, to, (i) => (i.type === 'prepareTransferBranch' && i.branchId === second && i.attempt === 1 ? 'lose-before' : undefined));
    expect(result).toMatchObject({ status: 'COMPLETED', phase: 'committed' });
    await leftClean(id, from, to, 2_500);
  });

  it('xa: when a branch prepared but the worker died before reporting it, then the retry learns from XA START that it prepared and prepares nothing twice', async () => {
    const { from, to, first } = await accounts();
    const { id, result } = await run('xa', from, to, (i) => (i.type === 'prepareTransferBranch' && i.branchId === first && i.attempt === 1 ? 'lose-after' : undefined));
    expect(result).toMatchObject({ status: 'COMPLETED' });
    await leftClean(id, from, to, 2_500);
  });

  it('xa: when one branch prepared and the other shard stays unreachable past the step budget, then the decision is rollback and the prepared branch is rolled back', async () => {
    const { from, to, second } = await accounts();
    const timeouts = { ...fastTimeouts, stepScheduleToCloseMs: 6_000 };
    const { id, result } = await run('xa', from, to, (i) => (i.type === 'prepareTransferBranch' && i.branchId === second ? 'fail' : undefined), timeouts);
    expect(result).toMatchObject({ status: 'COMPENSATED', phase: 'rolled-back', reason: { code: 'DependencyUnavailable' } });
    await leftClean(id, from, to, 0);
  });

  it('xa: when the worker dies after the decision before commit, then a replacement worker set finishes phase 2 (and recovery may commit first: both are idempotent)', async () => {
    const { from, to } = await accounts();
    const prefix = uid('tq-');
    const topology = topologyFor(ctx, prefix);
    const args = input('xa', from, to, topology);
    const holdCommits: ActivityInterceptorsFactory = (actx) => ({
      inbound: {
        execute: async (i, next) => {
          if (actx.info.activityType !== 'commitTransferBranch') return next(i);
          await sleep(fastTimeouts.stepStartToCloseMs + 500);
          throw new Error('injected: the worker died before committing');
        },
      },
    });
    const stopAll = (ws: Worker[]) => ws.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
    const dying = await startWorkers(ctx, prefix, { overrides: { interceptors: { activity: [holdCommits] } } });
    const dyingRun = Promise.allSettled(dying.map((w) => w.run()));
    const handle = await ctx.env.client.workflow.start('transferMoney', { taskQueue: `${prefix}-flows`, workflowId: transferWorkflowId(args.id), args: [args] });
    await until(async () => (await handle.query(transferProgressQuery)).phase === 'prepared', 30_000);
    expect(await preparedXa(ctx, transferWorkflowId(args.id))).toHaveLength(2);
    // The recovery job of a ledger worker resolves the prepared branches by the flow's recorded decision: commit.
    const decide = temporalDecider(ctx.env.client);
    let committed = 0;
    for (const shard of ctx.stores.of('ledger')) {
      const only: Decider = async (x, o) => (x.gtrid === transferWorkflowId(args.id) ? decide(x, o) : 'wait');
      committed += (await recoverPrepared(xaTarget({ namespace: ctx.config.temporal.namespace, taskQueuePrefix: prefix }, shard.url), only, new Map(), 0)).committed;
    }
    expect(committed).toBeGreaterThanOrEqual(1);
    stopAll(dying);
    await dyingRun;
    const fresh = await startWorkers(ctx, prefix);
    const result = await Promise.all([handle.result(), ...fresh.map((w) => w.runUntil(handle.result()))]).then(([r]) => r as TransferProgress);
    expect(result).toMatchObject({ status: 'COMPLETED', phase: 'committed' });
    await leftClean(args.id, from, to, 2_500);
  });

  it('xa: when an operator terminates the flow while a branch is prepared, then recovery rolls it back (closed flow, no commit decision)', async () => {
    const { from, to, second } = await accounts();
    await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const args = input('xa', from, to, topology);
        const handle = await ctx.env.client.workflow.start('transferMoney', { taskQueue, workflowId: transferWorkflowId(args.id), args: [args] });
        await until(async () => (await preparedXa(ctx, transferWorkflowId(args.id))).length === 1, 30_000);
        await handle.terminate('operator: stop it');
        const decide = temporalDecider(ctx.env.client);
        for (const shard of ctx.stores.of('ledger')) {
          const only: Decider = async (x, o) => (x.gtrid === transferWorkflowId(args.id) ? decide(x, o) : 'wait');
          await recoverPrepared(xaTarget({ namespace: ctx.config.temporal.namespace, taskQueuePrefix: topology.queuePrefix }, shard.url), only, new Map(), 0);
        }
        expect(await preparedXa(ctx, transferWorkflowId(args.id))).toEqual([]);
        await leftClean(args.id, from, to, 0);
      },
      { overrides: { interceptors: { activity: [faults((i) => (i.type === 'prepareTransferBranch' && i.branchId === second ? 'fail' : undefined))] } } },
    );
  });

  it('tcc: when the worker dies between try and confirm (a confirm ran, its result lost), then the confirm is retried with no second effect', async () => {
    const { from, to } = await accounts();
    const { id, result } = await run('tcc', from, to, (i) => (i.type.startsWith('confirmTransfer') && i.attempt === 1 ? 'lose-after' : undefined));
    expect(result).toMatchObject({ status: 'COMPLETED', phase: 'confirmed' });
    await leftClean(id, from, to, 2_500);
  });

  it('tcc: when the hold succeeded and the destination shard stays unreachable, then both tries are cancelled and nothing is held or pending', async () => {
    const { from, to } = await accounts();
    const timeouts = { ...fastTimeouts, stepScheduleToCloseMs: 6_000 };
    const { id, result } = await run('tcc', from, to, (i) => (i.type === 'holdTransferTo' ? 'fail' : undefined), timeouts);
    expect(result).toMatchObject({ status: 'COMPENSATED', phase: 'cancelled', reason: { code: 'DependencyUnavailable' } });
    await leftClean(id, from, to, 0);
  });

  it('tcc: when a cancel arrives twice and the try after it, then neither has an effect', async () => {
    const { from, to } = await accounts();
    // The try of the pending credit is lost before it runs, the flow gives up and cancels; the late try is refused.
    const timeouts = { ...fastTimeouts, stepScheduleToCloseMs: 3_000 };
    const { id, result } = await run('tcc', from, to, (i) => (i.type === 'holdTransferTo' && i.attempt === 1 ? 'late' : i.type.startsWith('cancelTransfer') && i.attempt === 1 ? 'lose-after' : undefined), timeouts);
    expect(result).toMatchObject({ status: 'COMPENSATED' });
    expect(await Promise.all(lateAttempts)).toEqual([expect.stringMatching(/^refused: .*after its cancel/)]);
    await leftClean(id, from, to, 0);
  });
});
