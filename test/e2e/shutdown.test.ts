// Graceful shutdown of real processes: SIGTERM on a worker drains in-flight work (nothing lost, nothing doubled) and
// a replacement finishes the rest; SIGTERM on the API finishes the request in flight before exiting.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../helpers/wait';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { workflowIds } from '../../src/shared/names';
import { transferMoney } from '../../src/workflows';
import { account, createAccount, createFlowsEnv, createProduct, fastTimeouts, moneyIn, uid, type FlowsEnv } from '../helpers/env';

const tsx = 'node_modules/.bin/tsx';

function launch(script: string, env: Record<string, string>) {
  // Its own process group: tsx runs the script in a child node process, and a group kill reaches both.
  const child = spawn(tsx, [script], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}


async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('graceful shutdown', () => {
  let ctx: FlowsEnv;
  let env: Record<string, string>;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    ctx = await createFlowsEnv();
    env = {
      TEMPORAL_TASK_QUEUE: uid('shutdown-'),
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
    await until(() => first.output().includes('worker started'));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/temporal_/);

    const source = await createAccount(ctx.db, 1_000_000);
    const sinks = await Promise.all(Array.from({ length: 5 }, () => createAccount(ctx.db, 0)));
    const ids = Array.from({ length: 30 }, () => uid('t-'));
    const handles = await Promise.all(
      ids.map((id, i) =>
        ctx.env.client.workflow.start(transferMoney, {
          taskQueue: env.TEMPORAL_TASK_QUEUE,
          workflowId: workflowIds.transfer(id),
          args: [{ id, fromAccountId: source, toAccountId: sinks[i % 5], amount: 1_000, currency: 'USD', timeouts: fastTimeouts }],
        }),
      ),
    );
    await sleep(300);
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(first.output()).toContain('worker stopped');

    const second = launch('src/worker.ts', env);
    children.push(second.child);
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.every((r) => r.status === 'COMPLETED')).toBe(true);
    expect((await account(ctx.db, source)).balance).toBe(1_000_000 - 30 * 1_000);
    expect(await moneyIn(ctx.db, [source, ...sinks])).toBe(1_000_000);
    const [rows] = (await ctx.db.query('SELECT COUNT(*) AS n FROM ledger_entries WHERE flow_id IN (?)', {
      replacements: [ids.map(workflowIds.transfer)],
    })) as [Array<{ n: number }>, unknown];
    expect(Number(rows[0].n)).toBe(60); // one debit and one credit per transfer, never more
  });

  it('when the API gets SIGTERM during a waiting request, then that request is answered before it exits', async () => {
    const port = await freePort();
    const api = launch('src/api/server.ts', { ...env, API_PORT: String(port), API_HOST: '127.0.0.1' });
    children.push(api.child);
    await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true);
    const payer = await createAccount(ctx.db, 1_000_000);
    const sku = await createProduct(ctx.db, 5_000, 10);
    const inflight = fetch(`http://127.0.0.1:${port}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=3' },
      body: JSON.stringify({ customerId: 'c-shutdown', paymentAccountId: payer, items: [{ sku, quantity: 1 }] }),
    });
    await sleep(800);
    api.child.kill('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(202); // over the (lowered) threshold: still awaiting approval after 3 s
    expect(((await res.json()) as any).data.status).toBe('AWAITING_APPROVAL');
    expect(await api.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
