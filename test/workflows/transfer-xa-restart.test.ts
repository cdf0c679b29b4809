// XA branches across a database server restart, on a MariaDB server of this test's own (both ledger shards as two
// databases on it, so restarting it disturbs no other test file): a transfer's two branches are prepared, the server
// is stopped and started again, the prepared branches are still there (XA RECOVER) holding their rows, and they are
// resolved — by the recovery job from the flow's recorded decision, then by the flow's own phase 2 (idempotent).
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTransferId } from '../../src/activities/ledger/reads';
import { transferProgressQuery, transferWorkflowId, type TransferProgress } from '../../src/workflows/transfer/contract';
import { recoverPrepared, temporalDecider, xaTarget } from '../../src/platform/xa-recovery';
import { account, createAccount, fastTimeouts, preparedXa, withWorker, type FlowsEnv } from '../helpers/env';
import { ownLedgerServer, type OwnLedgerServer } from '../helpers/own-mariadb';
import { until } from '../helpers/wait';

describe('XA across a database server restart', () => {
  let own: OwnLedgerServer;
  let ctx: FlowsEnv;

  beforeAll(async () => {
    own = await ownLedgerServer('xr');
    ctx = own.ctx;
  });
  afterAll(() => own?.close());

  it('when the server restarts while both branches are prepared, then they survive it and are resolved by the recorded decision', async () => {
    const from = await createAccount(ctx, 10_000, 'USD', { shard: 0 });
    const to = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const release = { commits: false };
    const holdCommits: ActivityInterceptorsFactory = (actx) => ({
      inbound: {
        execute: async (input, next) => {
          if (actx.info.activityType !== 'commitTransferBranch') return next(input);
          while (!release.commits) await sleep(100);
          return next(input);
        },
      },
    });
    const timeouts = { ...fastTimeouts, stepStartToCloseMs: 60_000 };
    const result = await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const id = newTransferId(ctx.stores, from);
        const flowId = transferWorkflowId(id);
        const handle = await ctx.env.client.workflow.start('transferMoney', {
          taskQueue,
          workflowId: flowId,
          args: [{ id, fromAccountId: from, toAccountId: to, amount: 4_000, currency: 'USD', consistency: 'xa', timeouts, topology }],
        });
        await until(async () => (await handle.query(transferProgressQuery)).phase === 'prepared', 30_000);
        expect((await preparedXa(ctx, flowId)).sort()).toEqual([`${flowId},xa-from`, `${flowId},xa-to`]);

        await own.restart();

        // Still prepared after the restart, still invisible to readers and still holding the source row.
        await until(async () => (await preparedXa(ctx, flowId).catch(() => [])).length === 2, 30_000);
        expect(await account(ctx, from)).toEqual({ balance: 10_000, frozen: 0 });
        // The recovery job resolves them by the flow's decision (commit)…
        const decide = temporalDecider(ctx.env.client);
        // (each shard's job resolves the branch of its own database, though both databases share the server)
        const committed: number[] = [];
        for (const shard of ctx.stores.of('ledger')) {
          const target = xaTarget({ namespace: ctx.config.temporal.namespace, taskQueuePrefix: topology.queuePrefix }, shard.url);
          committed.push((await recoverPrepared(target, async (x, o) => (x.gtrid === flowId ? decide(x, o) : 'wait'), new Map(), 0)).committed);
        }
        expect(committed).toEqual([1, 1]);
        expect(await preparedXa(ctx, flowId)).toEqual([]);
        // …and the flow's own phase 2, let go now, finds them committed.
        release.commits = true;
        return (await handle.result()) as TransferProgress;
      },
      { overrides: { interceptors: { activity: [holdCommits] } } },
    );
    expect(result).toMatchObject({ status: 'COMPLETED', phase: 'committed' });
    expect(await account(ctx, from)).toEqual({ balance: 6_000, frozen: 0 });
    expect(await account(ctx, to)).toEqual({ balance: 4_000, frozen: 0 });
    expect(await preparedXa(ctx)).toEqual([]);
  });
});
