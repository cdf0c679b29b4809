// XA branches across a database server restart, on a MariaDB server of this test's own (both ledger shards as two
// databases on it, so restarting it disturbs no other test file): a transfer's two branches are prepared, the server
// is stopped and started again, the prepared branches are still there (XA RECOVER) holding their rows, and they are
// resolved — by the recovery job from the flow's recorded decision, then by the flow's own phase 2 (idempotent).
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateStores } from '../../src/migrate';
import { newTransferId } from '../../src/activities/ledger/reads';
import { transferProgressQuery, transferWorkflowId, type TransferProgress } from '../../src/workflows/transfer/contract';
import { recoverPrepared, temporalDecider } from '../../src/platform/xa-recovery';
import { account, createAccount, createFlowsEnv, fastTimeouts, preparedXa, uid, withWorker, type FlowsEnv } from '../helpers/env';
import { until } from '../helpers/wait';

const mariadbModule = '../../scripts/lib/mariadb.mjs';

describe('XA across a database server restart', () => {
  let ctx: FlowsEnv;
  let server: { entry: unknown; serverUrl: string };
  let mariadb: { startMariaDb: (o: object) => Promise<typeof server>; stopMariaDb: (e: unknown) => Promise<void> };
  let options: Record<string, unknown>;

  beforeAll(async () => {
    mariadb = await import(mariadbModule);
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const work = join(process.env.SAGAFLOW_TEST_WORKDIR ?? tmpdir(), uid('xa-restart-'));
    options = {
      name: 'mariadb-xa-restart',
      dataDir: join(work, 'data'),
      port,
      database: 'sagaflow',
      databases: ['sagaflow_xr_ledger_0', 'sagaflow_xr_ledger_1'],
      user: 'sagaflow',
      password: 'sagaflow-test',
      durable: false,
      logDir: join(work, 'logs'),
    };
    server = await mariadb.startMariaDb(options);
    const urls = `${server.serverUrl}sagaflow_xr_ledger_0,${server.serverUrl}sagaflow_xr_ledger_1`;
    ctx = await createFlowsEnv({ LEDGER_DATABASE_URLS: urls });
    await migrateStores(ctx.config, 'up', ctx.stores.of('ledger'));
  });
  afterAll(async () => {
    await ctx?.close();
    if (server) await mariadb.stopMariaDb(server.entry);
  });

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

        await mariadb.stopMariaDb(server.entry);
        server = await mariadb.startMariaDb(options);

        // Still prepared after the restart, still invisible to readers and still holding the source row.
        await until(async () => (await preparedXa(ctx, flowId).catch(() => [])).length === 2, 30_000);
        expect(await account(ctx, from)).toEqual({ balance: 10_000, frozen: 0 });
        // The recovery job resolves them by the flow's decision (commit)…
        const decide = temporalDecider(ctx.env.client);
        const round = await recoverPrepared(ctx.stores.of('ledger')[0].url, async (x) => (x.gtrid === flowId ? decide(x) : 'wait'), new Map(), 0);
        expect(round.committed).toBe(2);
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
