// Graceful shutdown of real processes: SIGTERM on a worker (serving every unit: flows and each domain's stores) drains
// in-flight work (nothing lost, nothing doubled) and a replacement finishes the rest; SIGTERM on the API finishes the
// request in flight before exiting. The processes get the databases from this process's environment (npm test's).
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newTransferId } from '../../src/activities/ledger/reads';
import { transferWorkflowId, type TransferInput, type TransferProgress } from '../../src/workflows/transfer/contract';
import { account, createAccount, createFlowsEnv, createProduct, fastTimeouts, ledgerDb, moneyIn, topologyFor, uid, type FlowsEnv } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';

/** A TypeScript entry compiles on start, slowly on a busy machine: allow for two starts per test. */
const startMs = 60_000;
const testMs = 3 * startMs;

function launch(script: string, env: Record<string, string>) {
  // One node process with tsx's require hook, so a signal reaches the script itself. (The tsx CLI runs the script in a
  // child and relays a signal only if the child acknowledges it within 30 ms, else SIGKILLs it: on a busy machine a
  // draining worker was killed with 143.) Its own process group, so cleanup reaches anything it spawned.
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', script], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}


describe('graceful shutdown', () => {
  let ctx: FlowsEnv;
  let env: Record<string, string>;
  let prefix: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    ctx = await createFlowsEnv();
    prefix = uid('shutdown-');
    env = {
      TEMPORAL_TASK_QUEUE_PREFIX: prefix,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      WORKER_SHUTDOWN_GRACE_MS: '10000',
      APPROVAL_THRESHOLD: '1000',
    };
  });
  afterAll(async () => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await ctx?.close();
  });

  it('when a worker gets SIGTERM mid-flight, then it drains and exits 0, and a replacement completes every flow once', async () => {
    const metricsPort = await freePort();
    const first = launch('src/worker.ts', { ...env, WORKER_METRICS_PORT: String(metricsPort) });
    children.push(first.child);
    await until(() => first.output().includes('worker started'), startMs);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/temporal_/);

    // The source on shard 0, the sinks on both shards: debits and credits run on both ledger units.
    const source = await createAccount(ctx, 1_000_000, 'USD', { shard: 0 });
    const sinks = await Promise.all(Array.from({ length: 6 }, (_, i) => createAccount(ctx, 0, 'USD', { shard: i % 2 })));
    const ids = Array.from({ length: 30 }, () => newTransferId(ctx.stores, source));
    const topology = topologyFor(ctx, prefix);
    // Steps wait in their queues while no worker runs (the replacement compiling and starting): they must outlive that.
    const timeouts = { ...fastTimeouts, stepScheduleToCloseMs: testMs };
    const handles = await Promise.all(
      ids.map((id, i) => {
        const input: TransferInput = { id, fromAccountId: source, toAccountId: sinks[i % sinks.length], amount: 1_000, currency: 'USD', timeouts, topology };
        return ctx.env.client.workflow.start('transferMoney', { taskQueue: `${prefix}-flows`, workflowId: transferWorkflowId(id), args: [input] });
      }),
    );
    await sleep(300);
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(first.output()).toContain('worker stopped');

    const second = launch('src/worker.ts', env);
    children.push(second.child);
    const results = (await Promise.all(handles.map((h) => h.result()))) as TransferProgress[];
    expect(results.map((r) => (r.reason ? `${r.status}: ${r.reason.code} ${r.reason.message}` : r.status))).toEqual(ids.map(() => 'COMPLETED'));
    expect((await account(ctx, source))?.balance).toBe(1_000_000 - 30 * 1_000);
    expect(await moneyIn(ctx, [source, ...sinks])).toBe(1_000_000);
    // One debit (on the source's shard) and one credit (on the sink's shard) per transfer, never more.
    let entries = 0;
    for (const shard of ctx.stores.of('ledger')) {
      const [rows] = (await shard.db.query('SELECT COUNT(*) AS n FROM ledger_entries WHERE flow_id IN (?)', {
        replacements: [ids.map(transferWorkflowId)],
      })) as [Array<{ n: number }>, unknown];
      entries += Number(rows[0].n);
    }
    expect(entries).toBe(60);
    const [transfers] = (await ledgerDb(ctx, source).query("SELECT COUNT(*) AS n FROM transfers WHERE id IN (?) AND status = 'COMPLETED'", {
      replacements: [ids],
    })) as [Array<{ n: number }>, unknown];
    expect(Number(transfers[0].n)).toBe(30); // every transfer row on the source's shard, terminal
  }, testMs);

  it('when the API gets SIGTERM during a long wait, then readiness turns 503 at once and the request is answered 202 with Location before it exits', async () => {
    const port = await freePort();
    const api = launch('src/api/server.ts', { ...env, API_PORT: String(port), API_HOST: '127.0.0.1', SHUTDOWN_DRAIN_DELAY_MS: '2000' });
    children.push(api.child);
    await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true, startMs);
    const payer = await createAccount(ctx, 1_000_000);
    const sku = await createProduct(ctx, 5_000, 10);
    const inflight = fetch(`http://127.0.0.1:${port}/v1/orders`, {
      method: 'POST',
      // The longest wait there is (30 s): more than the drain grace (15 s), so only an early answer keeps it from being cut.
      headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify({ customerId: 'c-shutdown', paymentAccountId: payer, items: [{ sku, quantity: 1 }] }),
    });
    await sleep(800);
    const signalled = Date.now();
    api.child.kill('SIGTERM');
    // Within the drain delay, while the port is still open: 503, not a refused connection.
    await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 503, 2_000);
    const res = await inflight;
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(res.status).toBe(202); // over the (lowered) threshold: it would have waited for an approval
    const body = (await res.json()) as any;
    expect(res.headers.get('location')).toBe(`/v1/orders/${body.data.id}`);
    expect(await api.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, testMs);
});
