// `npm run histories:record`: runs every path of both flows (started by name on the flows queue, their steps on the
// services' queues, accounts across ledger shards) and saves their histories under test/fixtures/histories, which
// flows-replay.test.ts then replays on every `npm test`. Skipped unless RECORD_HISTORIES=1.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/activities/ledger/contract';
import { newTransferId } from '../../src/activities/ledger/reads';
import { approveOrderUpdate, cancelOrderUpdate, orderProgressQuery, orderWorkflowId, type OrderInput, type OrderProgress } from '../../src/workflows/checkout/contract';
import { addTransfersSignal, awaitTransferUpdate, batchedTransferId, cancelTransferSignal, transferWorkflowId, type BatchedTransfer } from '../../src/workflows/transfer/contract';
import { randomUUID } from 'node:crypto';
import type { Topology } from '../../src/platform/workflow/types';
import { createAccount, createFlowsEnv, createProduct, fastTimeouts, uid, withWorker, startTransferBatch, type FlowsEnv } from '../helpers/env';

const dir = join(process.cwd(), 'test/fixtures/histories');
const policy = { approvalThreshold: 1_000_000, approvalTimeoutMs: 60_000, pointsPerMinorUnits: 100, merchantAccountId: 'merchant' };

describe.runIf(process.env.RECORD_HISTORIES === '1')('record histories', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    // Recorded unencrypted on purpose: fixtures hold test data only, and a run's key is gone after the run (a history
    // recorded under it could never be replayed). The codec passes unencrypted payloads through, so they replay as is.
    ctx = await createFlowsEnv({ PAYLOAD_KEYS: '' });
  });
  afterAll(() => ctx?.close());

  /** Exports the history with the Temporal CLI, in the standard JSON form `historyFromJSON` reads. */
  async function save(name: string, handle: { workflowId: string }) {
    const json = execFileSync(
      process.env.TEMPORAL_CLI!,
      ['workflow', 'show', '--workflow-id', handle.workflowId, '--output', 'json', '--address', ctx.config.temporal.address],
      { encoding: 'utf8' },
    );
    writeFileSync(join(dir, `${name}.json`), json);
  }

  it('transfer paths', async () => {
    const rich = await createAccount(ctx, 10_000, 'USD', { shard: 0 });
    const poor = await createAccount(ctx, 10, 'USD', { shard: 0 });
    const usd = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const eur = await createAccount(ctx, 0, 'EUR', { shard: 1 });
    const paths = {
      'transfer-completed': { fromAccountId: rich, toAccountId: usd, status: 'COMPLETED' },
      'transfer-insufficient-funds': { fromAccountId: poor, toAccountId: usd, status: 'COMPENSATED' },
      'transfer-refunded': { fromAccountId: rich, toAccountId: eur, status: 'COMPENSATED' },
    };
    await withWorker(ctx, async (taskQueue, { topology }) => {
      for (const [name, { status, ...accounts }] of Object.entries(paths)) {
        const id = newTransferId(ctx.stores, accounts.fromAccountId);
        const handle = await ctx.env.client.workflow.start('transferMoney', {
          taskQueue,
          workflowId: transferWorkflowId(id),
          args: [{ id, ...accounts, amount: 100, currency: 'USD', timeouts: fastTimeouts, topology }],
        });
        expect((await handle.result()).status).toBe(status);
        await save(name, handle);
      }
    });
  });

  it('transfer batch', async () => {
    // One batch: a completed, an insufficient-funds and a refunded transfer from the start, one added by signal, one
    // cancelled while its credit waits for a shard nobody serves yet, and a Prefer: wait update. Saved as
    // transfer-batch-settled*.json: transfer-batch.json and transfer-batch-cancelled.json were recorded before the
    // coalesce-when-settled patch (calls grouped by counting microtask turns) and are kept, never re-recorded, so that
    // the old grouping keeps replaying.
    const rich = await createAccount(ctx, 10_000, 'USD', { shard: 0 });
    const poor = await createAccount(ctx, 10, 'USD', { shard: 0 });
    const usd = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const eur = await createAccount(ctx, 0, 'EUR', { shard: 1 });
    const batchId = randomUUID();
    const shards = ctx.stores.of('ledger').length;
    let n = 0;
    const transfer = (fromAccountId: string, toAccountId: string): BatchedTransfer => {
      while (shardOf(batchedTransferId(batchId, n), shards) !== shardOf(fromAccountId, shards)) n++;
      return { id: batchedTransferId(batchId, n++), fromAccountId, toAccountId, amount: 100, currency: 'USD', memo: null };
    };
    const [completed, insufficient, refunded, added] = [transfer(rich, usd), transfer(poor, usd), transfer(rich, eur), transfer(rich, usd)];
    await withWorker(ctx, async (taskQueue, { topology }) => {
      const handle = await startTransferBatch(ctx, { taskQueue, topology }, batchId, [completed, insufficient, refunded]);
      await handle.signal(addTransfersSignal, [added, completed]);
      expect((await handle.executeUpdate(awaitTransferUpdate, { args: [added.id] })).status).toBe('COMPLETED');
      const result = await handle.result();
      expect(result.transfers.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
        [completed.id, 'COMPLETED'],
        [insufficient.id, 'COMPENSATED'],
        [refunded.id, 'COMPENSATED'],
        [added.id, 'COMPLETED'],
      ]);
      await save('transfer-batch-settled', handle);
    });
    // The cancel path: the credit's shard (1) has no worker, so the transfer waits before its pivot when cancelled.
    const cancelled = transfer(rich, usd);
    const cancelledBatch = randomUUID();
    await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const handle = await startTransferBatch(ctx, { taskQueue, topology }, cancelledBatch, [cancelled]);
        await sleep(1_500); // debited, the credit scheduled on the unserved shard
        await handle.signal(cancelTransferSignal, cancelled.id);
        expect((await handle.result()).transfers.map((t: { status: string }) => t.status)).toEqual(['COMPENSATED']);
        await save('transfer-batch-settled-cancelled', handle);
      },
      { units: (stores) => ['flows', ...stores.of('ledger').filter((s) => s.unit !== 'ledger-1').map((s) => s.unit)] },
    );
  });

  it('transfer paths in the tcc and xa modes', async () => {
    const rich = await createAccount(ctx, 10_000, 'USD', { shard: 0 });
    const usd = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const eur = await createAccount(ctx, 0, 'EUR', { shard: 1 });
    const paths = {
      'transfer-tcc-confirmed': { consistency: 'tcc', fromAccountId: rich, toAccountId: usd, status: 'COMPLETED' },
      'transfer-tcc-cancelled': { consistency: 'tcc', fromAccountId: rich, toAccountId: eur, status: 'COMPENSATED' },
      'transfer-xa-committed': { consistency: 'xa', fromAccountId: rich, toAccountId: usd, status: 'COMPLETED' },
      'transfer-xa-rolled-back': { consistency: 'xa', fromAccountId: rich, toAccountId: eur, status: 'COMPENSATED' },
    };
    await withWorker(ctx, async (taskQueue, { topology }) => {
      for (const [name, { status, ...rest }] of Object.entries(paths)) {
        const id = newTransferId(ctx.stores, rest.fromAccountId);
        const handle = await ctx.env.client.workflow.start('transferMoney', {
          taskQueue,
          workflowId: transferWorkflowId(id),
          args: [{ id, ...rest, amount: 100, currency: 'USD', timeouts: fastTimeouts, topology }],
        });
        expect((await handle.result()).status).toBe(status);
        await save(name, handle);
      }
    });
  });

  describe('order paths', () => {
    // The payer on another shard than the merchant: the payment and the sale run on different ledger queues.
    let payer: string;
    let cheap: string;
    let scarce: string;
    let dear: string;
    beforeAll(async () => {
      const shards = ctx.stores.of('ledger').length;
      payer = await createAccount(ctx, 10_000_000, 'USD', { shard: (shardOf('merchant-USD', shards) + 1) % shards });
      cheap = await createProduct(ctx, 500, 100);
      scarce = await createProduct(ctx, 500, 1);
      dear = await createProduct(ctx, 2_000_000, 10);
    });

    type Handle = WorkflowHandle & { result(): Promise<OrderProgress> };
    const start = async (taskQueue: string, topology: Topology, items: OrderInput['items'], extra: { policy?: Partial<OrderInput['policy']>; paymentAccountId?: string } = {}) => {
      const id = uid('o-');
      const input: OrderInput = {
        id,
        customerId: 'c-1',
        paymentAccountId: extra.paymentAccountId ?? payer,
        items,
        policy: { ...policy, ...extra.policy },
        timeouts: fastTimeouts,
        topology,
      };
      return (await ctx.env.client.workflow.start('checkoutOrder', { taskQueue, workflowId: orderWorkflowId(id), args: [input] })) as Handle;
    };
    const awaiting = async (h: Handle) => {
      while ((await h.query(orderProgressQuery)).status !== 'AWAITING_APPROVAL') await sleep(100);
    };
    async function finish(name: string, h: Handle, expected: { status: string; code?: string }) {
      const r = await h.result();
      expect(r).toMatchObject({ status: expected.status, ...(expected.code ? { reason: { code: expected.code } } : {}) });
      await save(name, h);
    }

    it('each path', async () => {
      await withWorker(ctx, async (tq, { topology }) => {
        await finish('order-confirmed', await start(tq, topology, [{ sku: cheap, quantity: 2 }]), { status: 'CONFIRMED' });
        await finish('order-out-of-stock', await start(tq, topology, [{ sku: cheap, quantity: 1 }, { sku: scarce, quantity: 2 }]), {
          status: 'CANCELLED',
          code: 'OutOfStock',
        });
        const broke = await createAccount(ctx, 100, 'USD', { shard: 1 });
        await finish('order-insufficient-funds', await start(tq, topology, [{ sku: cheap, quantity: 1 }], { paymentAccountId: broke }), {
          status: 'CANCELLED',
          code: 'InsufficientFunds',
        });
        const euros = await createAccount(ctx, 100_000, 'EUR', { shard: 0 });
        await finish('order-currency-mismatch', await start(tq, topology, [{ sku: cheap, quantity: 1 }], { paymentAccountId: euros }), {
          status: 'CANCELLED',
          code: 'CurrencyMismatch',
        });

        const approved = await start(tq, topology, [{ sku: dear, quantity: 1 }]);
        await awaiting(approved);
        await approved.executeUpdate(approveOrderUpdate);
        await finish('order-approved', approved, { status: 'CONFIRMED' });

        const cancelled = await start(tq, topology, [{ sku: dear, quantity: 1 }]);
        await awaiting(cancelled);
        await cancelled.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind' }] });
        await finish('order-cancelled-in-approval', cancelled, { status: 'CANCELLED', code: 'OrderCancelled' });

        const timedOut = await start(tq, topology, [{ sku: dear, quantity: 1 }], { policy: { approvalTimeoutMs: 1_000 } });
        await finish('order-approval-timed-out', timedOut, { status: 'CANCELLED', code: 'ApprovalTimedOut' });
      });
    });

    it('cancelled while the payment try is in flight', async () => {
      // The ledger worker holds every payment for a while, so that the cancel arrives while the try runs.
      let holdStarted = false;
      const slowHold: ActivityInterceptorsFactory = (actx) => ({
        inbound: {
          execute: async (input, next) => {
            if (actx.info.activityType !== 'holdPayment') return next(input);
            holdStarted = true;
            await sleep(1_500);
            return next(input);
          },
        },
      });
      await withWorker(
        ctx,
        async (tq, { topology }) => {
          const h = await start(tq, topology, [{ sku: cheap, quantity: 1 }]);
          while (!holdStarted) await sleep(50);
          await h.executeUpdate(cancelOrderUpdate, { args: [{}] });
          await finish('order-cancelled-while-trying', h, { status: 'CANCELLED', code: 'OrderCancelled' });
          await sleep(2_000); // let the late hold finish (refused) before the workers stop
        },
        { overrides: { interceptors: { activity: [slowHold] } } },
      );
    });
  });
});
