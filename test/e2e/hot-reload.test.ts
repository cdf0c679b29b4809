// Hot reload on a real API process: its CONFIG_FILE rewritten and the process signalled with SIGHUP. A lowered rate
// limit takes effect without a restart; an invalid file, or one that changes a setting needing a restart, is refused
// and the old configuration stays; GET /v1/ops/config shows the version and what changed, never a key.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uid } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';

const startMs = 90_000;


describe('configuration hot reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sagaflow-reload-'));
  const file = join(dir, 'sagaflow.env');
  let api: ChildProcess;
  let output = '';
  let base = '';
  const load = 'Bearer load-key';
  const ops = 'Bearer ops-key';

  /**
   * Replaces the file, keeping its modification time (a fixed whole second): the file watch sees no change, so only
   * the signal can reload it. Written aside and renamed over it, so no poll ever sees a half-done rewrite.
   */
  const quietTime = 1_700_000_000;
  function rewriteQuietly(text: string) {
    writeFileSync(`${file}.next`, text);
    utimesSync(`${file}.next`, quietTime, quietTime);
    renameSync(`${file}.next`, file);
  }
  async function hup(expectLog: RegExp) {
    const seen = output.length;
    api.kill('SIGHUP');
    await until(() => expectLog.test(output.slice(seen)), 10_000);
  }
  const get = (path: string, auth = ops) => fetch(`${base}${path}`, { headers: { authorization: auth } });

  beforeAll(async () => {
    rewriteQuietly('API_KEYS=load-key,ops-key\nRATE_LIMIT_PER_SECOND=1000\nRATE_LIMIT_BURST=1000\n');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/api/server.ts'], {
      env: { ...process.env, LOG_LEVEL: 'info', API_PORT: String(port), API_HOST: '127.0.0.1', TEMPORAL_TASK_QUEUE_PREFIX: uid('reload-'), CONFIG_FILE: file, SHUTDOWN_DRAIN_DELAY_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    api.stdout!.on('data', (d) => (output += d));
    api.stderr!.on('data', (d) => (output += d));
    await until(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok === true, startMs);
  }, startMs + 10_000);
  afterAll(() => {
    try {
      process.kill(-api.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });

  it('when SIGHUP follows a lowered rate limit, then it takes effect without a restart and the version shows what changed', async () => {
    const before = await Promise.all(Array.from({ length: 10 }, () => get('/v1/ops/config', load)));
    expect(before.map((r) => r.status)).toEqual(Array(10).fill(200));
    const first = (await (await get('/v1/ops/config')).json()) as any;
    expect(first.data.version).toBe(1);

    rewriteQuietly('API_KEYS=load-key,ops-key\nRATE_LIMIT_PER_SECOND=1\nRATE_LIMIT_BURST=3\n');
    await hup(/configuration reloaded/);
    const pid = api.pid;
    const after = await Promise.all(Array.from({ length: 10 }, () => get('/v1/ops/config', load)));
    const statuses = after.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(6); // at most 3 (+ a refill) pass
    expect(after.find((r) => r.status === 429)!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(api.pid).toBe(pid);
    expect(api.exitCode).toBeNull();

    const view = (await (await get('/v1/ops/config')).json()) as any;
    expect(view.data.version).toBe(2);
    expect(view.data.live).toMatchObject({ RATE_LIMIT_PER_SECOND: 1, RATE_LIMIT_BURST: 3, API_KEYS: { secret: true, count: 2 } });
    expect(view.data.reloads.at(-1)).toMatchObject({ trigger: 'SIGHUP', outcome: 'applied', version: 2, changed: ['RATE_LIMIT_PER_SECOND', 'RATE_LIMIT_BURST'] });
    expect(JSON.stringify(view)).not.toContain('load-key');
  });

  it('when the file is invalid or changes a setting that needs a restart, then the reload is refused and the old configuration stays', async () => {
    rewriteQuietly('API_KEYS=load-key,ops-key\nRATE_LIMIT_PER_SECOND=1\nRATE_LIMIT_BURST=zero\n');
    await hup(/configuration reload refused/);
    rewriteQuietly('API_KEYS=load-key,ops-key\nRATE_LIMIT_PER_SECOND=1\nRATE_LIMIT_BURST=3\nDB_POOL_MAX=3\n');
    await hup(/configuration reload refused/);
    await sleep(1_500); // the ops key's bucket refills
    const view = (await (await get('/v1/ops/config')).json()) as any;
    expect(view.data.version).toBe(2);
    expect(view.data.live).toMatchObject({ RATE_LIMIT_BURST: 3 });
    const [invalid, fixed] = view.data.reloads.slice(-2);
    expect(invalid).toMatchObject({ outcome: 'refused', version: 2, reason: expect.stringMatching(/RATE_LIMIT_BURST/) });
    expect(fixed).toMatchObject({ outcome: 'refused', version: 2, changed: ['DB_POOL_MAX'], reason: expect.stringMatching(/restart: DB_POOL_MAX/) });
    expect((await fetch(`${base}/healthz`)).ok).toBe(true);
  });

  it('when the file itself changes (no signal), then the watch reloads it', async () => {
    writeFileSync(file, 'API_KEYS=load-key,ops-key\nRATE_LIMIT_PER_SECOND=1\nRATE_LIMIT_BURST=3\nLOG_LEVEL=warn\n');
    await until(async () => {
      const r = await get('/v1/ops/config');
      return r.ok && ((await r.json()) as any).data.version === 3;
    }, 10_000, 1_100);
    const view = (await (await get('/v1/ops/config')).json()) as any;
    expect(view.data.reloads.at(-1)).toMatchObject({ trigger: 'CONFIG_FILE changed', outcome: 'applied', changed: ['LOG_LEVEL'] });
  });
});
