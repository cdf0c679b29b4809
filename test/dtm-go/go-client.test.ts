// DTM's own Go client (github.com/dtm-labs/client, unmodified) against sagaflow's DTM-protocol coordinator: the suite
// in examples/gin-gorm/cmd/suite serves srv-a and srv-b (Gin + GORM, the client's barrier) on two fresh MariaDB
// databases and runs each scenario under a watchdog, judging it by the databases (balances, barrier rows, call logs,
// XA RECOVER). Built once per run with the machine's Go (caches under ~/.cache/sagaflow); one test per scenario.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Sequelize } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSequelize } from '../../src/platform/db/sequelize';
import { buildGinGorm, goEnv } from '../../scripts/lib/go.mjs';
import { createDtmEnv, type DtmEnv } from '../dtm/coordinator';

const SCENARIOS = [
  'saga-success',
  'saga-failure-compensated-in-reverse',
  'saga-ongoing-then-success',
  'saga-500-then-success',
  'saga-concurrent-orders',
  'saga-concurrent-orders-failure',
  'tcc-confirm',
  'tcc-try-failure-cancel',
  'msg-submit',
  'msg-local-rolled-back',
  'msg-backcheck-committed',
  'msg-backcheck-rolled-back',
  'xa-commit',
  'xa-rollback',
  'wait-result-success',
  'wait-result-failure',
  'duplicate-submit',
  'branch-headers',
  'query-after-success',
];

interface ScenarioLine {
  name: string;
  ok: boolean;
  detail?: string;
  ms: number;
}

describe("DTM's Go client against sagaflow", () => {
  let env: DtmEnv;
  let admin: Sequelize;
  const databases: string[] = [];
  const results = new Map<string, ScenarioLine>();
  let suiteOutput = '';

  beforeAll(async () => {
    const bin = await buildGinGorm(join(process.env.SAGAFLOW_TEST_WORKDIR ?? '/tmp', 'gin-gorm-bin'));
    env = await createDtmEnv();
    const server = new URL(env.config.db.urls.orders);
    admin = createSequelize(server.toString(), { ...env.config.db.pool, max: 1 });
    const dsn: Record<string, string> = {};
    for (const side of ['a', 'b']) {
      const name = `${server.pathname.slice(1)}_gg${side}_${process.pid}`;
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
      databases.push(name);
      dsn[side] = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
    }
    suiteOutput = (await runProgram(bin.suite, [], { DTM_SERVER: env.dtm, A_DSN: dsn.a, B_DSN: dsn.b })).out;
    for (const line of suiteOutput.split('\n')) {
      if (line.startsWith('{')) {
        const parsed = JSON.parse(line) as ScenarioLine;
        results.set(parsed.name, parsed);
      }
    }
  }, 30 * 60_000);

  afterAll(async () => {
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin?.close();
    await env?.close();
  });

  it.each(SCENARIOS)('when the Go client runs %s through sagaflow, then the databases show its outcome', (name) => {
    const result = results.get(name);
    expect(result, `no result for ${name}; suite output:\n${suiteOutput.slice(-4000)}`).toBeDefined();
    expect(result!.detail ?? '').toBe('');
    expect(result!.ok).toBe(true);
  });

  it('when `npm run example:gin-gorm` runs against the coordinator, then it ends with the balances its transactions make', async () => {
    const server = Object.assign(new URL(env.config.db.urls.orders), { pathname: '/' }).toString();
    databases.push('sagaflow_example_srv_a', 'sagaflow_example_srv_b');
    const { code, out } = await runProgram(process.execPath, [join('scripts', 'example-gin-gorm.mjs')], { DTM_SERVER: env.dtm, EXAMPLE_DATABASE_URL: server });
    expect(out).toMatch(/databases: srv-a 9940, srv-b 60 \(want 9940, 60\): ok/);
    expect(out).toMatch(/saga whose transfer-in fails.*coordinator says failed/);
    expect(code, out.slice(-3000)).toBe(0);
  }, 15 * 60_000);

  it('when the suite runs, then it reports exactly the scenarios this test expects', () => {
    expect([...results.keys()].sort()).toEqual([...SCENARIOS].sort());
  });
});

/** Runs a program (each Go scenario has its own watchdog; this one bounds the whole run); resolves with its exit code and output. */
function runProgram(file: string, args: string[], extraEnv: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { ...goEnv(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 20 * 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(watchdog);
      resolve({ code, out: `${out}\n${err.slice(-4000)}` });
    });
  });
}
