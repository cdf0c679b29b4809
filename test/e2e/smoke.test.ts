// End-to-end smoke: a workflow runs its activities through the real Temporal server and writes rows to MariaDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIds } from '../../src/shared/names';
import { transferMoney } from '../../src/workflows';
import { account, createAccount, createFlowsEnv, fastTimeouts, uid, withWorker, type FlowsEnv } from '../helpers/env';

describe('smoke', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  it('when a transfer runs through the real server, then MariaDB holds its rows', async () => {
    const from = await createAccount(ctx.db, 10_000);
    const to = await createAccount(ctx.db, 0);
    const id = uid('t-');
    const result = await withWorker(ctx, (taskQueue) =>
      ctx.env.client.workflow.execute(transferMoney, {
        taskQueue,
        workflowId: workflowIds.transfer(id),
        args: [{ id, fromAccountId: from, toAccountId: to, amount: 2_500, currency: 'USD', timeouts: fastTimeouts }],
      }),
    );
    expect(result.status).toBe('COMPLETED');
    expect(await account(ctx.db, from)).toMatchObject({ balance: 7_500, frozen: 0 });
    expect(await account(ctx.db, to)).toMatchObject({ balance: 2_500 });
    const [rows] = await ctx.db.query('SELECT status FROM transfers WHERE id = ?', { replacements: [id] });
    expect(rows).toEqual([{ status: 'COMPLETED' }]);
  });
});
