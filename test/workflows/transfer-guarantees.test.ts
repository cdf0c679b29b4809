// The saga guarantees that hold for weeks and under failures, through the real workers, server and both MariaDB
// servers, with faults injected by activity interceptors:
// - a compensation that keeps failing is retried by the server: each failed attempt adds no history event (the
//   history has the same length after 5 and after 25 failures, and stays under a fixed bound), so a refund failing for
//   weeks never reaches Temporal's history limit; the alarm is raised, and it completes once the fault clears. (The dev
//   server fires activity retry timers about once a second, so a test cannot wait for thousands of attempts; the
//   event count not growing per attempt is what makes thousands — or millions — safe.);
// - the credit is the transfer's pivot: when it committed but its result was lost for longer than a step's budget,
//   the transfer goes forward (retried until known), never reversing a credit the owner may already have spent.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTransferId } from '../../src/activities/ledger/reads';
import { transferProgressQuery, transferWorkflowId } from '../../src/workflows/transfer/contract';
import { FlowStatusKey } from '../../src/platform/workflow/search-attributes';
import { account, createAccount, createFlowsEnv, entriesOf, fastTimeouts, ledgerDb, ledgerSum, withWorker, type FlowsEnv } from '../helpers/env';

/** The bound on a compensating transfer's history, however long its refund fails. The loop this replaced added about
 * eight events per five failed attempts: 25 failures took it past this bound. */
const HISTORY_BOUND = 40;

describe('transfer guarantees', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  it('when the refund keeps failing, then no failed attempt adds a history event, the alarm is raised, and it completes once the fault clears', async () => {
    const from = await createAccount(ctx, 5_000, 'USD', { shard: 0 });
    const to = await createAccount(ctx, 0, 'EUR', { shard: 1 }); // the credit is rejected: the debit must be refunded
    const fault = { on: true, attempts: 0 };
    const failingRefund: ActivityInterceptorsFactory = (actx) => ({
      inbound: {
        execute: async (input, next) => {
          if (actx.info.activityType !== 'refundDebit' || !fault.on) return next(input);
          fault.attempts++;
          throw new Error('injected: the source shard refuses the refund');
        },
      },
    });
    const id = newTransferId(ctx.stores, from);
    const timeouts = { ...fastTimeouts, compensationStuckAfterMs: 1_500, undoMaxIntervalMs: 1 };
    const { result, events, eventsEarly, stuckSeen, statusSeen } = await withWorker(
      ctx,
      async (taskQueue, { topology }) => {
        const handle = await ctx.env.client.workflow.start('transferMoney', {
          taskQueue,
          workflowId: transferWorkflowId(id),
          args: [{ id, fromAccountId: from, toAccountId: to, amount: 2_000, currency: 'USD', timeouts, topology }],
        });
        const deadline = Date.now() + 60_000;
        while (fault.attempts < 5 && Date.now() < deadline) await sleep(100);
        const eventsEarly = (await handle.fetchHistory()).events?.length ?? 0;
        while (fault.attempts < 25 && Date.now() < deadline) await sleep(100);
        const progress = await handle.query(transferProgressQuery);
        const description = await handle.describe();
        const history = await handle.fetchHistory();
        fault.on = false;
        return {
          result: await handle.result(),
          events: history.events?.length ?? 0,
          eventsEarly,
          stuckSeen: progress.stuck,
          statusSeen: description.typedSearchAttributes.get(FlowStatusKey),
        };
      },
      { overrides: { interceptors: { activity: [failingRefund] } } },
    );
    expect(fault.attempts).toBeGreaterThanOrEqual(25);
    expect(events).toBe(eventsEarly); // 20 more failures, not one more event
    expect(events).toBeLessThan(HISTORY_BOUND);
    expect(stuckSeen).toBe(true);
    expect(statusSeen).toBe('FAILED');
    expect(result).toMatchObject({ status: 'COMPENSATED', stuck: false, reason: { code: 'CurrencyMismatch' } });
    expect(await account(ctx, from)).toEqual({ balance: 5_000, frozen: 0 });
    expect(await entriesOf(ctx, from, transferWorkflowId(id))).toEqual([
      { step: 'debit', amount: -2_000 },
      { step: 'refund-debit', amount: 2_000 },
    ]);
  }, 120_000);

  it('when the credit committed but its result was lost past the step budget and the money was spent, then the transfer completes: the credit is never reversed', async () => {
    const from = await createAccount(ctx, 5_000, 'USD', { shard: 0 });
    const to = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const toDb = ledgerDb(ctx, to);
    let lostUntil = 0;
    let spent = false;
    const lostCreditResult: ActivityInterceptorsFactory = (actx) => ({
      inbound: {
        execute: async (input, next) => {
          if (actx.info.activityType !== 'creditDestination') return next(input);
          const value = await next(input); // committed
          if (!spent) {
            spent = true;
            lostUntil = Date.now() + 4_000; // longer than the forward budget below
            // The owner spends the money at once, outside the flow (with its ledger entry, as any spend).
            await toDb.query('UPDATE accounts SET balance = balance - 2000 WHERE id = ?', { replacements: [to] });
            await toDb.query(`INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES (?, 'spend', 'spend', -2000, 'spend', NOW(3))`, {
              replacements: [to],
            });
          }
          if (Date.now() < lostUntil) throw new Error('injected: the credit committed, its result was lost');
          return value;
        },
      },
    });
    const id = newTransferId(ctx.stores, from);
    const timeouts = { stepStartToCloseMs: 1_000, stepScheduleToCloseMs: 2_000, compensationStuckAfterMs: 60_000, undoMaxIntervalMs: 500 };
    const result = await withWorker(
      ctx,
      (taskQueue, { topology }) =>
        ctx.env.client.workflow.execute('transferMoney', {
          taskQueue,
          workflowId: transferWorkflowId(id),
          args: [{ id, fromAccountId: from, toAccountId: to, amount: 2_000, currency: 'USD', timeouts, topology }],
        }),
      { overrides: { interceptors: { activity: [lostCreditResult] } } },
    );
    expect(result).toMatchObject({ status: 'COMPLETED' });
    expect(result.steps.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([
      ['debit', 'done'],
      ['credit', 'done'],
      ['record-outcome', 'done'],
    ]);
    expect(await account(ctx, from)).toEqual({ balance: 3_000, frozen: 0 });
    expect(await account(ctx, to)).toEqual({ balance: 0, frozen: 0 }); // credited once, then spent
    expect(await entriesOf(ctx, to, transferWorkflowId(id))).toEqual([{ step: 'credit', amount: 2_000 }]); // no reversal
    expect(await ledgerSum(ctx, to)).toBe(0);
  }, 60_000);
});
