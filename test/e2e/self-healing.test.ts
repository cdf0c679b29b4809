// Self-healing of plain `npm run dev` (scripts/dev.mjs, every port free and its state in a temporary directory): under a
// transfer load, MariaDB B (ledger shard 1, inventory, loyalty) is killed with SIGKILL. The stack's supervisor starts
// it again, readiness says 503 with Retry-After meanwhile, the ledger-1 unit pauses and resumes, and every transfer
// ends COMPLETED or COMPENSATED with the money of every account conserved. Then the API process itself is killed and
// comes back. The stack keeps running throughout.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uid } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';


const ACCOUNTS = 6;
const OPENING = 100_000;
const TRANSFERS = 40;

describe('self-healing dev stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sagaflow-heal-'));
  let dev: ChildProcess;
  let output = '';
  let base = '';

  /** Sends until the API accepts (a 503 or a refused connection is retried with the same Idempotency-Key). */
  async function send(method: string, path: string, body?: unknown, key?: string): Promise<any> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).catch(() => null);
      if (res && res.status < 500) {
        const json = (await res.json()) as any;
        if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
        return json.data;
      }
      if (Date.now() > deadline) throw new Error(`${method} ${path}: still ${res?.status ?? 'unreachable'} after 120 s`);
      await sleep(500);
    }
  }

  beforeAll(async () => {
    chmodSync(dataDir, 0o755); // the mysql system user must reach the datadirs inside
    const [api, a, b, temporal, ui] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    base = `http://127.0.0.1:${api}`;
    dev = spawn(process.execPath, ['scripts/dev.mjs'], {
      env: {
        ...process.env,
        SAGAFLOW_DATA_DIR: dataDir,
        API_PORT: String(api),
        MARIADB_PORT: String(a),
        MARIADB_SECOND_PORT: String(b),
        TEMPORAL_PORT: String(temporal),
        TEMPORAL_UI_PORT: String(ui),
        // The test run's broker (it answers, so the stack uses it) under a prefix of its own: no second RabbitMQ node.
        BROKER_PREFIX: uid('heal-'),
        WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    dev.stdout!.on('data', (d) => (output += d));
    dev.stderr!.on('data', (d) => (output += d));
    await until(() => output.includes('sagaflow is running') || dev.exitCode !== null, 240_000, 500);
    if (dev.exitCode !== null) throw new Error(`npm run dev exited ${dev.exitCode}:\n${output.slice(-3000)}`);
  }, 250_000);

  afterAll(async () => {
    if (dev && dev.exitCode === null) {
      const exited = new Promise((r) => dev.once('exit', r));
      dev.kill('SIGINT'); // its own handler stops everything it started
      await Promise.race([exited, sleep(60_000)]);
      try {
        process.kill(-dev.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);

  it('when MariaDB B is killed under a transfer load, then it is restarted and every transfer ends COMPLETED or COMPENSATED with money conserved', async () => {
    const accounts: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) accounts.push((await send('POST', '/v1/accounts', { owner: `heal-${i}`, currency: 'USD', initialBalance: OPENING })).id);
    const transfer = (i: number) =>
      send(
        'POST',
        '/v1/transfers',
        { fromAccountId: accounts[i % ACCOUNTS], toAccountId: accounts[(i * 5 + 1) % ACCOUNTS], amount: 100 + i, currency: 'USD' },
        `heal-transfer-${i}`,
      ).then((t) => t.id as string);

    const first = Array.from({ length: TRANSFERS / 2 }, (_, i) => transfer(i));
    await sleep(300);
    const pid = Number(readFileSync(join(dataDir, 'mariadb-b', 'mysqld.pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    // While B is down: readiness says so, with a hint when to come back.
    let unready: Response | undefined;
    await until(async () => {
      const r = await fetch(`${base}/readyz`).catch(() => null);
      if (r?.status === 503) unready = r;
      return unready !== undefined;
    }, 15_000, 100);
    expect(unready!.headers.get('retry-after')).toMatch(/^\d+$/);
    const second = Array.from({ length: TRANSFERS / 2 }, (_, i) => transfer(TRANSFERS / 2 + i));
    const ids = await Promise.all([...first, ...second]);

    // The supervisor restarts B; the stack never stopped.
    await until(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 90_000, 500);
    expect(output).toMatch(/mariadb-b exited unexpectedly \(SIGKILL\); restarting it/);
    expect(output).not.toMatch(/stopping the stack/);
    expect(dev.exitCode).toBeNull();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/sagaflow_supervisor_restarts_total\{process="mariadb-b"\} 1/);

    const statuses: string[] = [];
    for (const id of ids) {
      let status = '';
      await until(async () => {
        status = (await send('GET', `/v1/transfers/${id}`)).status;
        return ['COMPLETED', 'COMPENSATED', 'FAILED'].includes(status);
      }, 150_000, 500);
      statuses.push(status);
    }
    expect(statuses.filter((s) => s !== 'COMPLETED' && s !== 'COMPENSATED')).toEqual([]);

    let total = 0;
    for (const id of accounts) {
      const a = await send('GET', `/v1/accounts/${id}`);
      total += a.balance + a.frozen;
    }
    expect(total).toBe(ACCOUNTS * OPENING);
  }, 400_000);

  it('when the API process is killed, then it is started again and its own restart is counted on its /metrics', async () => {
    const listening = readFileSync(join(dataDir, 'logs', 'api.log'), 'utf8')
      .split('\n')
      .find((l) => l.includes('"api listening"'));
    const pid = Number(JSON.parse(listening!).pid);
    process.kill(pid, 'SIGKILL');
    const restarts = async () => {
      const res = await fetch(`${base}/metrics`).catch(() => null);
      return res?.ok ? ((await res.text()).match(/sagaflow_supervisor_restarts_total\{process="api"\} (\d+)/)?.[1] ?? '') : '';
    };
    await until(async () => (await restarts()) === '1', 120_000, 500);
    expect(output).toMatch(/api exited unexpectedly/);
    expect(dev.exitCode).toBeNull();
  }, 150_000);
});
