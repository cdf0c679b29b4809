// The cluster smoke (`npm run test:cluster`, CI after `npm test`): the same app over the real Temporal cluster that
// `npm run dev -- --cluster` runs — two server nodes in one ring on PostgreSQL — instead of the dev server. A single
// transfer, an order and a batch of transfers run to their end through the API, each flow through a different
// frontend, and a history read back from PostgreSQL replays on today's workflow code. Only collected when
// SAGAFLOW_TEMPORAL=cluster (vitest.config.mts); scripts/test.mjs then provides TEMPORAL_ADDRESSES.
import { execFileSync } from 'node:child_process';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dataConverterFor } from '../../src/platform/codec/data-converter';
import { transferWorkflowId } from '../../src/workflows/transfer/contract';
// @ts-expect-error a plain ES module of the scripts, no types
import { binary } from '../../scripts/lib/temporal-cluster.mjs';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { account, createAccount, createProduct, moneyIn, testTracingPlugin, uid } from '../helpers/env';

const addresses = (process.env.TEMPORAL_ADDRESSES ?? '').split(',').filter(Boolean);

/** The members of each ring (frontend, history, matching, worker) as node `address` sees them (tdbg membership). */
function rings(address: string): Record<string, string[]> {
  const out = execFileSync(binary('tdbg'), ['--address', address, 'membership', 'list-gossip'], { encoding: 'utf8' });
  const list = JSON.parse(out) as Array<{ role: string; members?: Array<{ identity: string }> }>;
  return Object.fromEntries(list.map((r) => [r.role, (r.members ?? []).map((m) => m.identity).sort()]));
}

describe('the Temporal cluster', () => {
  it('when either node is asked, then every ring holds both nodes', () => {
    expect(addresses).toHaveLength(2);
    const [first, second] = addresses.map(rings);
    expect(Object.keys(first).sort()).toEqual(['frontend', 'history', 'matching', 'worker']);
    for (const members of Object.values(first)) expect(members).toHaveLength(2);
    expect(first.frontend).toEqual([...addresses].sort());
    expect(second).toEqual(first);
  });

  it('when an operator runs `npm run temporal -- operator cluster describe`, then it names the cluster and both nodes', () => {
    const run = (output: string[]) =>
      execFileSync(process.execPath, ['scripts/temporal.mjs', 'operator', 'cluster', 'describe', ...output], { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: addresses[0] } });
    const described = JSON.parse(run(['-o', 'json'])) as { persistenceStore: string; membership: Array<{ role: string; members: string[] }> };
    expect(described.persistenceStore).toBe('postgres12');
    expect(described.membership.find((r) => r.role === 'frontend')?.members).toEqual([...addresses].sort());
    const table = run([]);
    for (const address of addresses) expect(table).toContain(address);
  });
});

describe('flows on the cluster', () => {
  let single: ApiEnv;
  let batched: ApiEnv;
  beforeAll(async () => {
    single = await createApiEnv({ TRANSFER_MODE: 'single', TEMPORAL_ADDRESS: addresses[0] });
    batched = await createApiEnv({ TRANSFER_MODE: 'batched', TEMPORAL_ADDRESS: addresses[1] });
  });
  afterAll(async () => {
    await single?.close();
    await batched?.close();
  });

  it('when a transfer is posted, then it completes, and its history read back from the cluster replays on the current code', async () => {
    const from = await createAccount(single, 1_000, 'USD', { shard: 0 });
    const to = await createAccount(single, 0, 'USD', { shard: 1 });
    const res = await single.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 300, currency: 'USD' }, { prefer: 'wait=30', 'idempotency-key': uid('k-') });
    expect([res.status, res.json.data.status]).toEqual([200, 'COMPLETED']);
    expect(await account(single, from)).toMatchObject({ balance: 700, frozen: 0 });
    expect(await account(single, to)).toMatchObject({ balance: 300 });

    const history = await single.env.client.workflow.getHandle(transferWorkflowId(res.json.data.id)).fetchHistory();
    expect(history.events?.length).toBeGreaterThan(5);
    // The history is encrypted (PAYLOAD_KEYS): the replaying worker decodes it with the run's keyring, as the workers do.
    const dataConverter = dataConverterFor(single.config.codec.keys);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, plugins: [testTracingPlugin()], dataConverter }, history, transferWorkflowId(res.json.data.id));
  });

  it('when an order under the approval threshold is posted, then it is CONFIRMED and the stock is taken', async () => {
    const payer = await createAccount(single, 10_000, 'USD', { shard: 1 });
    const sku = await createProduct(single, 2_500, 3);
    const res = await single.call('POST', '/v1/orders', { customerId: uid('cust-'), paymentAccountId: payer, items: [{ sku, quantity: 2 }] }, { prefer: 'wait=30' });
    expect([res.status, res.json.data.status]).toEqual([200, 'CONFIRMED']);
    expect(await account(single, payer)).toMatchObject({ balance: 5_000, frozen: 0 });
    expect((await single.call('GET', `/v1/products/${sku}`)).json.data).toMatchObject({ stock: 1, reserved: 0 });
  });

  it('when transfers arrive at once in batched mode through the other frontend, then each completes once', async () => {
    const sources = await Promise.all(Array.from({ length: 8 }, (_, i) => createAccount(batched, 100, 'USD', { shard: i % 2 })));
    const to = await createAccount(batched, 0, 'USD', { shard: 1 });
    const results = await Promise.all(
      sources.map((from, i) => batched.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 10 + i, currency: 'USD' }, { prefer: 'wait=30' })),
    );
    expect(results.map((r) => [r.status, r.json.data.status])).toEqual(results.map(() => [200, 'COMPLETED']));
    expect(new Set(results.map((r) => r.json.data.id)).size).toBe(8);
    expect(await account(batched, to)).toMatchObject({ balance: 8 * 10 + 28 });
    expect(await moneyIn(batched, [...sources, to])).toBe(800);
  });
});
