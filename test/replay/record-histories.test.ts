// `npm run histories:record`: runs every path of both flows and saves their histories under test/fixtures/histories,
// which the replay test then replays on every `npm test`. Skipped unless RECORD_HISTORIES=1.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { OrderInput } from '../../src/shared/flows';
import { workflowIds } from '../../src/shared/names';
import { approveOrderUpdate, cancelOrderUpdate, checkoutOrder, orderProgressQuery } from '../../src/workflows/checkout';
import { transferMoney } from '../../src/workflows/transfer';
import { createAccount, createFlowsEnv, createProduct, fastTimeouts, uid, withWorker, type FlowsEnv } from '../helpers/env';

const dir = join(process.cwd(), 'test/fixtures/histories');
const policy = { approvalThreshold: 1_000_000, approvalTimeoutMs: 60_000, pointsPerMinorUnits: 100, merchantAccountId: 'merchant' };

describe.runIf(process.env.RECORD_HISTORIES === '1')('record histories', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
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
    const rich = await createAccount(ctx.db, 10_000);
    const poor = await createAccount(ctx.db, 10);
    const usd = await createAccount(ctx.db, 0);
    const eur = await createAccount(ctx.db, 0, 'EUR');
    const paths = {
      'transfer-completed': { fromAccountId: rich, toAccountId: usd },
      'transfer-insufficient-funds': { fromAccountId: poor, toAccountId: usd },
      'transfer-refunded': { fromAccountId: rich, toAccountId: eur },
    };
    await withWorker(ctx, async (taskQueue) => {
      for (const [name, accounts] of Object.entries(paths)) {
        const id = uid('t-');
        const handle = await ctx.env.client.workflow.start(transferMoney, {
          taskQueue,
          workflowId: workflowIds.transfer(id),
          args: [{ id, ...accounts, amount: 100, currency: 'USD', timeouts: fastTimeouts }],
        });
        await handle.result();
        await save(name, handle);
      }
    });
  });

  it('order paths', async () => {
    const payer = await createAccount(ctx.db, 10_000_000);
    const cheap = await createProduct(ctx.db, 500, 100);
    const scarce = await createProduct(ctx.db, 500, 1);
    const dear = await createProduct(ctx.db, 2_000_000, 10);
    const start = (taskQueue: string, items: OrderInput['items'], extra: Partial<OrderInput['policy']> = {}) => {
      const id = uid('o-');
      return ctx.env.client.workflow.start(checkoutOrder, {
        taskQueue,
        workflowId: workflowIds.order(id),
        args: [{ id, customerId: 'c-1', paymentAccountId: payer, items, policy: { ...policy, ...extra }, timeouts: fastTimeouts }],
      });
    };
    const awaiting = async (h: Awaited<ReturnType<typeof start>>) => {
      while ((await h.query(orderProgressQuery)).status !== 'AWAITING_APPROVAL') await sleep(100);
    };
    await withWorker(ctx, async (tq) => {
      const confirmed = await start(tq, [{ sku: cheap, quantity: 2 }]);
      await confirmed.result();
      await save('order-confirmed', confirmed);

      const outOfStock = await start(tq, [{ sku: cheap, quantity: 1 }, { sku: scarce, quantity: 2 }]);
      await outOfStock.result();
      await save('order-out-of-stock', outOfStock);

      const approved = await start(tq, [{ sku: dear, quantity: 1 }]);
      await awaiting(approved);
      await approved.executeUpdate(approveOrderUpdate);
      await approved.result();
      await save('order-approved', approved);

      const cancelled = await start(tq, [{ sku: dear, quantity: 1 }]);
      await awaiting(cancelled);
      await cancelled.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind' }] });
      await cancelled.result();
      await save('order-cancelled-in-approval', cancelled);

      const timedOut = await start(tq, [{ sku: dear, quantity: 1 }], { approvalTimeoutMs: 1_000 });
      await timedOut.result();
      await save('order-approval-timed-out', timedOut);
    });
  });
});
