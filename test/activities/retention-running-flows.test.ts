// Retention never deletes the barrier rows of a flow that can still run. A checkout waits for approval past the
// barrier retention (the clock is ours: the purge runs at "now + 8 days" against the real Temporal server, which says
// the flow is running); its rows stay, so a cancel after the purge still finds its tries and releases the stock and
// the held money. The rows of a finished flow and of a flow Temporal does not know go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config';
import { newTransferId } from '../../src/activities/ledger/reads';
import { cancelOrderUpdate, orderProgressQuery, orderWorkflowId, type OrderInput } from '../../src/workflows/checkout/contract';
import { transferWorkflowId } from '../../src/workflows/transfer/contract';
import { select } from '../../src/platform/db/sql';
import { purgeExpiredBarriers, temporalRunningFlows, type RunningFlows } from '../../src/platform/retention';
import type { OpenStore } from '../../src/platform/stores';
import { account, createAccount, createFlowsEnv, createProduct, fastTimeouts, ledgerDb, product, uid, withWorker, type FlowsEnv } from '../helpers/env';
import { until } from '../helpers/wait';

const day = 86_400_000;
const retention: Config['retention'] = { barrierDays: 7, idempotencyHours: 24, intervalMs: 60_000 };

describe('retention and flows that still run', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  const barrierCount = (store: { db: OpenStore['db'] }, flowId: string) =>
    select<{ n: number }>(store.db, 'SELECT COUNT(*) AS n FROM barriers WHERE flow_id = ?', [flowId]).then(([r]) => Number(r.n));

  it('when a checkout awaits approval past the retention, then its rows survive the purge and a later cancel releases everything', async () => {
    const payer = await createAccount(ctx, 5_000_000);
    const sku = await createProduct(ctx, 1_500_000, 3);
    const unknownFlow = uid('gone-');
    await ctx.stores.db('inventory').query(`INSERT INTO barriers (flow_id, branch_id, op, reason, created_at) VALUES (?, 'x', 'action', 'action', NOW(3))`, {
      replacements: [unknownFlow],
    });
    const mine = new Set<string>([unknownFlow]);
    const real = temporalRunningFlows(ctx.env.client);
    // Other test files share these databases: their flows count as running here, only this test's are asked about.
    const running: RunningFlows = async (ids) => {
      const alive = await real(ids.filter((id) => mine.has(id)));
      return new Set(ids.filter((id) => !mine.has(id) || alive.has(id)));
    };

    const result = await withWorker(ctx, async (taskQueue, { topology }) => {
      // A finished flow: a transfer that completed.
      const from = await createAccount(ctx, 1_000);
      const to = await createAccount(ctx, 0);
      const transferId = newTransferId(ctx.stores, from);
      await ctx.env.client.workflow.execute('transferMoney', {
        taskQueue,
        workflowId: transferWorkflowId(transferId),
        args: [{ id: transferId, fromAccountId: from, toAccountId: to, amount: 100, currency: 'USD', timeouts: fastTimeouts, topology }],
      });
      mine.add(transferWorkflowId(transferId));

      // A flow that still runs: an order over the threshold, waiting for an approval that takes days.
      const id = uid('o-');
      const input: OrderInput = {
        id,
        customerId: uid('cust-'),
        paymentAccountId: payer,
        items: [{ sku, quantity: 2 }],
        policy: { approvalThreshold: 1_000_000, approvalTimeoutMs: 30 * day, pointsPerMinorUnits: 100, merchantAccountId: 'merchant' },
        timeouts: fastTimeouts,
        topology,
      };
      const handle = await ctx.env.client.workflow.start('checkoutOrder', { taskQueue, workflowId: orderWorkflowId(id), args: [input] });
      mine.add(handle.workflowId);
      await until(async () => (await handle.query(orderProgressQuery)).status === 'AWAITING_APPROVAL');
      expect(await product(ctx, sku)).toEqual({ stock: 3, reserved: 2 });
      expect(await account(ctx, payer)).toEqual({ balance: 2_000_000, frozen: 3_000_000 });

      // Eight days later, by the purge's clock: every row above is older than the retention.
      const later = new Date(Date.now() + 8 * day);
      const inventory = ctx.stores.of('inventory')[0];
      const payerShard = { db: ledgerDb(ctx, payer) };
      const transferShard = { db: ledgerDb(ctx, from) };
      expect(await barrierCount(inventory, handle.workflowId)).toBe(1);
      expect(await barrierCount(payerShard, handle.workflowId)).toBe(1);
      for (const store of ctx.stores.list.filter((s) => s.domain !== 'api')) await purgeExpiredBarriers(store.db, retention, running, later);
      expect(await barrierCount(inventory, handle.workflowId)).toBe(1); // the stock try's row
      expect(await barrierCount(payerShard, handle.workflowId)).toBe(1); // the payment try's row
      expect(await barrierCount(transferShard, transferWorkflowId(transferId))).toBe(0); // finished: purged
      expect(await barrierCount(inventory, unknownFlow)).toBe(0); // unknown to Temporal: purged

      // The cancel after the purge still finds the tries: both are really undone, not taken for null compensations.
      await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind after a week' }] });
      return handle.result();
    });
    expect(result).toMatchObject({ status: 'CANCELLED', reason: { code: 'OrderCancelled' } });
    expect(await product(ctx, sku)).toEqual({ stock: 3, reserved: 0 });
    expect(await account(ctx, payer)).toEqual({ balance: 5_000_000, frozen: 0 });
  }, 90_000);
});
