// A rolling restart behind the load balancer, on the Temporal cluster (`npm run test:cluster`): HAProxy with
// deploy/haproxy/haproxy.cfg in front of two API processes and the two Temporal frontends, two worker processes
// (scripts/lib/replicas.mjs, what `npm run dev -- --ha` runs). While clients post transfers — each with its own
// Idempotency-Key, retrying connection errors and 5xx with the same key as a well-behaved client does — every worker
// and every API is restarted one by one, gracefully. Then no request stayed failed, every key made exactly one transfer,
// every transfer completed, and the money moved exactly once.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
// @ts-expect-error a plain ES module of the scripts, no types
import { cleanup } from '../../scripts/lib/procs.mjs';
// @ts-expect-error a plain ES module of the scripts, no types
import { rollingRestart, startReplicas } from '../../scripts/lib/replicas.mjs';
// @ts-expect-error a plain ES module of the scripts, no types
import { freePortBlock } from '../../scripts/lib/temporal-cluster.mjs';
import { account, createAccount, createFlowsEnv, moneyIn, uid, type FlowsEnv } from '../helpers/env';

const root = join(__dirname, '../..');
const TERMINAL = new Set(['COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED']);

interface Sent {
  key: string;
  from: string;
  amount: number;
  ids: Set<string>;
  status?: number;
  retried: number;
}

/** POST /v1/transfers until an answer that is not 5xx/429/connection error, always with the same key (max 120 s). */
async function post(base: string, to: string, sent: Sent): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (let wait = 200; Date.now() < deadline; wait = Math.min(wait * 2, 2_000)) {
    try {
      const res = await fetch(`${base}/v1/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': sent.key },
        body: JSON.stringify({ fromAccountId: sent.from, toAccountId: to, amount: sent.amount, currency: 'USD' }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json().catch(() => ({}))) as { data?: { id?: string } };
      if (body.data?.id) sent.ids.add(body.data.id);
      if (res.status < 500 && res.status !== 429) {
        sent.status = res.status;
        return;
      }
    } catch {
      /* connection refused/reset or timeout: retried like a 5xx */
    }
    sent.retried += 1;
    await sleep(wait);
  }
}

describe('rolling restart of every API and worker behind HAProxy', () => {
  let ctx: FlowsEnv;
  let replicas: { apis: Array<{ name: string }>; workers: Array<{ name: string }>; haproxy: object };
  let base: string;
  beforeAll(async () => {
    ctx = await createFlowsEnv();
    const apiPort = await freePortBlock(3);
    const temporalPort = await freePortBlock(1, { avoid: [apiPort, apiPort + 1, apiPort + 2] });
    const workDir = process.env.SAGAFLOW_TEST_WORKDIR ?? root;
    replicas = await startReplicas({
      root,
      logDir: join(workDir, 'logs', 'rolling-restart'),
      apiHost: '127.0.0.1',
      apiPort,
      temporalPort,
      temporalServers: (process.env.TEMPORAL_ADDRESSES ?? '').split(','),
      env: {
        TEMPORAL_TASK_QUEUE_PREFIX: uid('rr-'),
        WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
        LOG_LEVEL: 'info',
        RATE_LIMIT_PER_SECOND: '100000',
        RATE_LIMIT_BURST: '100000',
        WORKER_SHUTDOWN_GRACE_MS: '10000',
      },
    });
    base = `http://127.0.0.1:${apiPort}`;
  }, 420_000);
  afterAll(async () => {
    await cleanup();
    await ctx?.close();
  }, 120_000);

  it('when every replica restarts one by one under load, then no request stays failed and every transfer happens exactly once', async () => {
    const sources = await Promise.all(Array.from({ length: 4 }, (_, i) => createAccount(ctx, 100_000, 'USD', { shard: i % 2 })));
    const to = await createAccount(ctx, 0, 'USD', { shard: 1 });
    const sent: Sent[] = [];
    let loading = true;
    const clients = sources.map(async (from, c) => {
      for (let n = 0; loading; n++) {
        const s: Sent = { key: uid(`rr-${c}-${n}-`), from, amount: 1 + ((c * 7 + n) % 9), ids: new Set(), retried: 0 };
        sent.push(s);
        await post(base, to, s);
        await sleep(300);
      }
    });
    const steps: string[] = [];
    await rollingRestart(replicas, { onStep: (r: { name: string }, phase: string) => steps.push(`${r.name}:${phase}`) });
    loading = false;
    await Promise.all(clients);

    expect(steps.filter((s) => s.endsWith(':up'))).toEqual([...replicas.workers, ...replicas.apis].map((r) => `${r.name}:up`));
    expect(sent.length).toBeGreaterThan(20);
    // Every request ended in an answer the client accepts (202), each key naming one transfer, every key a different one.
    expect(sent.filter((s) => s.status !== 202 || s.ids.size !== 1).map((s) => ({ key: s.key, status: s.status, ids: [...s.ids] }))).toEqual([]);
    const ids = sent.map((s) => [...s.ids][0]);
    expect(new Set(ids).size).toBe(sent.length);

    // Every accepted transfer reaches its end, COMPLETED (every source can pay). The bound is generous: after a worker
    // restart every running batch replays its history, slow on a starved machine (workflow tasks of several seconds).
    const statuses = new Map<string, string>();
    const last = new Map<string, string>();
    const deadline = Date.now() + 600_000;
    while (statuses.size < ids.length && Date.now() < deadline) {
      for (const id of ids.filter((i) => !statuses.has(i))) {
        const res = await fetch(`${base}/v1/transfers/${id}`).catch(() => null);
        const status = res?.ok ? ((await res.json()) as { data: { status: string } }).data.status : undefined;
        last.set(id, status ?? `HTTP ${res?.status ?? 'error'}`);
        if (status && TERMINAL.has(status)) statuses.set(id, status);
      }
      if (statuses.size < ids.length) await sleep(1_000);
    }
    const open = ids.filter((id) => statuses.get(id) !== 'COMPLETED');
    const openBatches = new Set(open.map((id) => id.split('.')[0]));
    expect({ open: open.length, of: ids.length, batches: openBatches.size, lastSeen: [...new Set(open.map((id) => last.get(id)))] }).toEqual({ open: 0, of: ids.length, batches: 0, lastSeen: [] });

    // The money moved exactly once per transfer.
    for (const from of sources) {
      const paid = sent.filter((s) => s.from === from).reduce((sum, s) => sum + s.amount, 0);
      expect(await account(ctx, from)).toMatchObject({ balance: 100_000 - paid, frozen: 0 });
    }
    expect(await account(ctx, to)).toMatchObject({ balance: sent.reduce((sum, s) => sum + s.amount, 0) });
    expect(await moneyIn(ctx, [...sources, to])).toBe(400_000);
    console.log(`rolling restart: ${sent.length} transfers, ${sent.filter((s) => s.retried > 0).length} recovered by retrying (${sent.reduce((n, s) => n + s.retried, 0)} retries)`);
  }, 1_200_000);
});
