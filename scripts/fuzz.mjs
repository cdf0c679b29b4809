#!/usr/bin/env node
// `npm run fuzz`: property-based fuzzing of the HTTP API with schemathesis, driven by GET /openapi.json. Provisions the
// same ephemeral services as `npm test` (sagaflow's databases on two fresh MariaDB servers, or fresh ones on
// DATABASE_URL's server; an in-memory Temporal dev server; free ports),
// migrates, seeds a few rows with the ids the OpenAPI examples use (so example requests reach real resources; each in
// the database that owns it), starts a worker (serving every unit) and the API on a free port, and runs schemathesis from a project-owned virtualenv cached outside the clone
// (<cache>/venv, reused while it holds the pinned version). Checks: no 5xx, every response matches the documented
// schema, every status code is documented. Exits non-zero on any failure; tears everything down in any case.
//
// Knobs (environment): FUZZ_EXAMPLES (per operation, default 30), FUZZ_SEED (default fixed, for a reproducible run;
// "random" for a fresh one), FUZZ_WORKERS (default 1: on CPython 3.11, hypothesis describing its lambdas from two
// threads at once trips "SystemError: AST constructor recursion depth mismatch", a CPython bug, gh-106905),
// FUZZ_ARGS (extra `st run` arguments, split on spaces, e.g. "--report har --report-dir /tmp/fuzz"),
// PYTHON (default python3).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from './lib/deps.mjs';
import { log } from './lib/log.mjs';
import { cleanup, freePort, start, stop, stopOnSignals, waitFor } from './lib/procs.mjs';
import { loadSearchAttributes } from './lib/project.mjs';
import { provision } from './lib/stack.mjs';
import { cacheDir } from './lib/temporal-cli.mjs';
import { ensureNodeRuntime } from './lib/node-runtime.mjs';

const SCHEMATHESIS_VERSION = '4.32.5';
const CHECKS = ['not_a_server_error', 'response_schema_conformance', 'status_code_conformance'];
const RUN_TIMEOUT_MS = 6 * 60_000; // a hard stop far above the expected ~1-2 minutes
// Migrates every database (run with tsx from the project root).
const MIGRATE = ['src/migrate.ts', 'up'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await ensureNodeRuntime(); // Node 24 LTS, whatever started this script
const tsx = join(root, 'node_modules', '.bin', 'tsx');
stopOnSignals();

/** Runs a command as a child this script owns (stopped with everything else on Ctrl-C), resolving to its exit code. */
function run(name, cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const entry = start(name, cmd, args, { ...opts, inherit: true });
    entry.child.once('error', reject);
    entry.child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** The virtualenv with the pinned schemathesis: reused when its marker says so, (re)built otherwise. */
async function ensureSchemathesis() {
  const venv = join(cacheDir(), 'venv');
  const st = join(venv, 'bin', 'st');
  const marker = join(venv, '.sagaflow-schemathesis');
  if (existsSync(st) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === SCHEMATHESIS_VERSION) return st;
  const python = process.env.PYTHON ?? 'python3';
  log.info(`creating ${venv} with schemathesis ${SCHEMATHESIS_VERSION} (first run only)`);
  rmSync(venv, { recursive: true, force: true });
  if (spawnSync(python, ['-m', 'venv', venv], { stdio: 'inherit' }).status !== 0) {
    // Debian ships venv separately; install it when we may (CI runs as root on a machine that may start bare).
    if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`${python} -m venv failed; install Python 3 with venv support (Debian: apt-get install python3-venv)`);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3', 'python3-venv'], { stdio: 'inherit', env });
    rmSync(venv, { recursive: true, force: true });
    if (spawnSync(python, ['-m', 'venv', venv], { stdio: 'inherit' }).status !== 0) throw new Error(`${python} -m venv failed`);
  }
  const pip = join(venv, 'bin', 'pip');
  const code = await run('pip', pip, ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  if (code !== 0) throw new Error(`pip install schemathesis==${SCHEMATHESIS_VERSION} failed (exit ${code})`);
  writeFileSync(marker, `${SCHEMATHESIS_VERSION}\n`);
  return st;
}

/**
 * Rows whose ids are the OpenAPI examples ("acc-1"), so example-based requests read real resources. `databaseEnv` is
 * provision()'s map (LEDGER_DATABASE_URLS, INVENTORY_DATABASE_URL, ORDERS_DATABASE_URL, LOYALTY_DATABASE_URL, ...).
 * Each row goes to the database that owns it: an account and its entries to the ledger shard its id maps to (src's own
 * shardOf, loaded through tsx, so the rule cannot drift), a transfer to its source account's shard (the example id is
 * the source's id, so it maps there too), a product to the inventory, an order to the orders database, points to loyalty.
 */
async function seed(databaseEnv) {
  const mysql = await import('mysql2/promise');
  const { tsImport } = await import('tsx/esm/api');
  const { shardOf } = await tsImport('../src/activities/ledger/contract.ts', import.meta.url);
  const ledgerUrls = databaseEnv.LEDGER_DATABASE_URLS.split(',');
  const conns = new Map();
  const open = async (url) => {
    if (!conns.has(url)) conns.set(url, mysql.createConnection({ uri: url }));
    const c = await conns.get(url);
    return (sql, args) => c.query(sql, args);
  };
  const ledgerOf = (id) => open(ledgerUrls[shardOf(id, ledgerUrls.length)]);
  try {
    for (const [id, balance] of [
      ['acc-1', 1_000_000_000],
      ['acc-2', 0],
    ]) {
      const ledger = await ledgerOf(id);
      await ledger(`INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES (?, 'fuzz', 'USD', ?, 0, NOW(3), NOW(3))`, [
        id,
        balance,
      ]);
      if (balance > 0) {
        await ledger(`INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES (?, ?, 'open', ?, 'opening', NOW(3))`, [
          id,
          `account-${id}`,
          balance,
        ]);
      }
    }
    const transfer = { id: 'acc-1', from: 'acc-1', to: 'acc-2' };
    if (shardOf(transfer.id, ledgerUrls.length) !== shardOf(transfer.from, ledgerUrls.length)) {
      throw new Error(`seed: transfer ${transfer.id} would not be found on its source account's shard`);
    }
    await (await ledgerOf(transfer.from))(
      `INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, memo, status, created_at, updated_at) VALUES
        (?, ?, ?, 2500, 'USD', 'seeded', 'COMPLETED', NOW(3), NOW(3))`,
      [transfer.id, transfer.from, transfer.to],
    );
    const inventory = await open(databaseEnv.INVENTORY_DATABASE_URL);
    await inventory(`INSERT INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at) VALUES
      ('acc-1', 'Fuzz widget', 2500, 'USD', 1000000, 0, NOW(3), NOW(3))`);
    const orders = await open(databaseEnv.ORDERS_DATABASE_URL);
    await orders(`INSERT INTO orders (id, customer_id, payment_account_id, total, currency, status, created_at, updated_at) VALUES
      ('acc-1', 'acc-1', 'acc-1', 2500, 'USD', 'CONFIRMED', NOW(3), NOW(3))`);
    await orders(`INSERT INTO order_items (order_id, line_no, sku, quantity, price) VALUES ('acc-1', 0, 'acc-1', 1, 2500)`);
    const loyalty = await open(databaseEnv.LOYALTY_DATABASE_URL);
    await loyalty(`INSERT INTO points_entries (customer_id, order_id, points, created_at) VALUES ('acc-1', 'acc-1', 25, NOW(3))`);
  } finally {
    await Promise.all([...conns.values()].map(async (c) => (await c.catch(() => null))?.end()));
  }
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

let code = 1;
let logDir;
try {
  ensureDeps(root);
  const started = Date.now();
  const [st, stack] = await Promise.all([
    ensureSchemathesis(),
    provision({ mode: 'test', root, searchAttributes: await loadSearchAttributes(root) }),
  ]);
  logDir = stack.logDir;
  log.info(`services ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const apiPort = await freePort();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: undefined, // not the caller's: only this run's databases (start() merges process.env in)
    ...stack.databaseEnv,
    ...stack.brokerEnv,
    TEMPORAL_ADDRESS: stack.temporal.address,
    TEMPORAL_TASK_QUEUE_PREFIX: `fuzz-${process.pid}`,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    API_KEYS: '',
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
  };
  const migrated = spawnSync(tsx, MIGRATE, { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
  if (migrated.status !== 0) throw new Error('migrations failed');
  await seed(stack.databaseEnv);

  const worker = start('worker', tsx, ['src/worker.ts'], { cwd: root, env: { ...env, LOG_LEVEL: 'info' }, logFile: join(logDir, 'worker.log') });
  const api = start('api', tsx, ['src/api/server.ts'], { cwd: root, env, logFile: join(logDir, 'api.log') });
  const base = `http://127.0.0.1:${apiPort}`;
  await waitFor('API /readyz', async () => (await fetch(`${base}/readyz`)).ok, { entry: api, timeoutMs: 90_000 });
  // Flows started by the fuzzer (Prefer: wait) should finish, not time out: wait for the worker to poll.
  await waitFor('worker', () => /worker started/.test(tail(join(logDir, 'worker.log'), 200)), { entry: worker, timeoutMs: 120_000 });
  log.info(`API on ${base}, worker polling; fuzzing with schemathesis ${SCHEMATHESIS_VERSION}`);

  const seedArg = process.env.FUZZ_SEED === 'random' ? [] : ['--seed', process.env.FUZZ_SEED ?? '20240611'];
  const args = [
    'run',
    `${base}/openapi.json`,
    '--url',
    base,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    process.env.FUZZ_EXAMPLES ?? '30',
    '--workers',
    process.env.FUZZ_WORKERS ?? '1',
    '--request-timeout',
    '40', // above Prefer: wait=30
    '--generation-database',
    'none',
    '--no-color',
    ...seedArg,
    ...(process.env.FUZZ_ARGS ?? '').split(' ').filter(Boolean),
  ];
  log.info(`st ${args.join(' ')}`);
  const fuzz = start('schemathesis', st, args, { cwd: stack.work, inherit: true });
  const exited = new Promise((resolve) => fuzz.child.once('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
  const timer = setTimeout(() => {
    log.error(`schemathesis still running after ${RUN_TIMEOUT_MS / 1000} s; stopping it`);
    void stop(fuzz);
  }, RUN_TIMEOUT_MS);
  code = await exited;
  clearTimeout(timer);
  if (api.exited || worker.exited) {
    log.error(`${api.exited ? 'the API' : 'the worker'} exited during the run`);
    code ||= 1;
  }
  log.info(`fuzzing ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  log.error(err.message);
  code = 1;
} finally {
  if (code !== 0 && logDir) {
    log.info(`API log (tail):\n${tail(join(logDir, 'api.log'))}`);
    log.info(`worker log (tail):\n${tail(join(logDir, 'worker.log'))}`);
  }
  await cleanup();
}
process.exit(code);
