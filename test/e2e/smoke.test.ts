// End-to-end smoke: a workflow, started by name on the flows queue, runs its steps on the ledger shards' own queues
// through the real Temporal server and writes rows to both shards' MariaDB databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTransferId } from '../../src/activities/ledger/reads';
import { transferWorkflowId } from '../../src/workflows/transfer/contract';
import { account, createAccount, createFlowsEnv, fastTimeouts, ledgerDb, withWorker, type FlowsEnv } from '../helpers/env';

describe('smoke', () => {
  let ctx: FlowsEnv;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
  });
  afterAll(() => ctx?.close());

  it('when a transfer runs through the real server, then MariaDB holds its rows on each shard', async () => {
    const from = await createAccount(ctx, 10_000, 'USD', { shard: 0 });
    const to = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const id = newTransferId(ctx.stores, from);
    const result = await withWorker(ctx, (taskQueue, { topology }) =>
      ctx.env.client.workflow.execute('transferMoney', {
        taskQueue,
        workflowId: transferWorkflowId(id),
        args: [{ id, fromAccountId: from, toAccountId: to, amount: 2_500, currency: 'USD', timeouts: fastTimeouts, topology }],
      }),
    );
    expect(result.status).toBe('COMPLETED');
    expect(await account(ctx, from)).toMatchObject({ balance: 7_500, frozen: 0 });
    expect(await account(ctx, to)).toMatchObject({ balance: 2_500 });
    const [rows] = await ledgerDb(ctx, from).query('SELECT status FROM transfers WHERE id = ?', { replacements: [id] });
    expect(rows).toEqual([{ status: 'COMPLETED' }]);
  });
});
