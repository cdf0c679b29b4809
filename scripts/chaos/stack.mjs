// The chaos run's own stack, all on 127.0.0.1 in a temporary directory: the two project-owned MariaDB servers of the
// standard layout (scripts/lib/layout.mjs: A = ledger_0, orders, api; B = ledger_1, inventory, loyalty), each
// restartable on its datadir and port; the Temporal dev server persisted to a SQLite file (restartable on the same file
// and port); the migrations (`tsx src/migrate.ts up`); worker processes split per unit (WORKER_SERVE = flows, ledger,
// inventory, orders, loyalty, and dtm — the DTM coordinator's branch callers — when a run asks for it; several of some),
// started from a prebuilt workflow bundle so replacements start fast; and one API process (killable and restarted on
// its port); a RabbitMQ node of its own (restartable on its directory and ports). Knows how to inflict each fault and how to tell that the stack recovered from it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { DATABASE_PREFIX, DATABASES, databaseEnvFor, databaseName, SERVERS } from '../lib/layout.mjs';
import { log } from '../lib/log.mjs';
import { ensureMariaDbInstalled, startMariaDb, stopMariaDb } from '../lib/mariadb.mjs';
import { freePort, start, stop, waitFor } from '../lib/procs.mjs';
import { workerProcessEnv } from '../lib/project.mjs';
import { restartServer } from '../lib/stack.mjs';
import { startRabbitMq, stopRabbitMq } from '../lib/rabbitmq.mjs';
import { startTemporal } from '../lib/temporal-server.mjs';

/** The worker units a process can serve (WORKER_SERVE), in start order. */
export const UNITS = ['flows', 'ledger', 'inventory', 'orders', 'loyalty', 'dtm'];

/** Runs a command to completion without blocking the event loop; rejects with the tail of its output. */
function run(command, args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${out.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}

/**
 * `flows=2,ledger=2,inventory=1,…` or a number N (flows and ledger get N, the other units 1) → { unit: count }. The dtm
 * unit has a worker only in a run with the DTM load (`dtm`), unless the spec names it.
 */
export function parseWorkerSpec(spec, { dtm = false } = {}) {
  const counts = { flows: 2, ledger: 2, inventory: 1, orders: 1, loyalty: 1, dtm: dtm ? 1 : 0 };
  if (spec === undefined || spec === '') return counts;
  if (/^\d+$/.test(String(spec))) return { ...counts, flows: Number(spec), ledger: Number(spec) };
  for (const part of String(spec).split(',')) {
    const [unit, n] = part.split('=').map((s) => s.trim());
    if (!UNITS.includes(unit) || !/^\d+$/.test(n ?? '') || Number(n) < 1) throw new Error(`--workers: bad entry "${part}" (units: ${UNITS.join(', ')}; each ≥ 1)`);
    counts[unit] = Number(n);
  }
  return counts;
}

export class ChaosStack {
  constructor({ root, work, rec, workers, apiEnv, merchantSubAccounts = 1 }) {
    this.root = root;
    this.work = work;
    this.logDir = join(work, 'logs');
    this.rec = rec;
    this.workerCounts = workers; // { unit: count }
    this.apiEnv = { ...apiEnv, MERCHANT_SUB_ACCOUNTS: String(merchantSubAccounts) };
    this.merchantSubAccounts = merchantSubAccounts;
    this.workers = []; // entries with .unit
    this.workerSeq = 0;
    this.closing = false;
    this.servers = [];
  }

  async start(searchAttributes) {
    const started = Date.now();
    const [tPort, apiPort] = [await freePort(), await freePort()];
    this.temporalOpts = { port: tPort, uiPort: 0, headless: true, dbFile: join(this.work, 'temporal.sqlite'), namespace: 'default', searchAttributes, logDir: this.logDir };
    this.bundlePath = join(this.work, 'workflow-bundle.js');
    const bundled = run(process.execPath, [join(this.root, 'scripts/bundle-workflows.mjs'), this.bundlePath], { cwd: this.root });
    bundled.catch(() => undefined); // awaited below
    const ledgerContract = this.loadTs('src/activities/ledger/contract.ts');
    ledgerContract.catch(() => undefined);
    ensureMariaDbInstalled(); // once, before the parallel starts
    this.brokerOpts = {
      name: 'rabbitmq',
      dir: join(this.work, 'rabbitmq'),
      logDir: this.logDir,
      port: await freePort(),
      distPort: await freePort(),
      epmdPort: await freePort(),
      user: 'sagaflow',
      password: 'sagaflow-chaos',
    };
    const [servers, temporal, broker] = await Promise.all([this.startServers(), this.startTemporalService(), startRabbitMq(this.brokerOpts)]);
    this.servers = servers;
    this.temporal = temporal;
    this.broker = broker;
    this.watch(broker.entry, 'rabbitmq');
    log.info(`chaos: RabbitMQ on 127.0.0.1:${broker.port} (node ${broker.options.nodeName})`);
    for (const s of servers) this.watch(s.entry, `mariadb-${s.name}`);
    this.watch(temporal.entry, 'temporal');
    const byName = Object.fromEntries(servers.map((s) => [s.name, s]));
    this.databaseEnv = databaseEnvFor((name) => byName[name].url);
    for (const s of servers) log.info(`chaos: MariaDB ${s.name} on 127.0.0.1:${s.port} (${s.databases.join(', ')})`);
    log.info(`chaos: Temporal on ${temporal.address} (SQLite ${this.temporalOpts.dbFile})`);
    await run(join(this.root, 'node_modules/.bin/tsx'), ['src/migrate.ts', 'up'], { cwd: this.root, env: this.baseEnv() });
    const { shardOf, merchantAccount } = await ledgerContract;
    this.ledgerShards = this.databaseEnv.LEDGER_DATABASE_URLS.split(',').length;
    this.shardOf = (id) => shardOf(id, this.ledgerShards);
    // The merchant (sub-)account an order's sale lands on (MERCHANT_SUB_ACCOUNTS, given to the API, which puts it in
    // every checkout's input).
    this.merchantOf = (orderId, currency = 'USD') => merchantAccount('merchant', currency, orderId, this.merchantSubAccounts);
    await bundled;
    this.apiPort = apiPort;
    const wanted = UNITS.flatMap((unit) => Array.from({ length: this.workerCounts[unit] ?? 0 }, () => unit));
    await Promise.all([this.startApi(apiPort), ...wanted.map((unit) => this.startWorker(unit))]);
    const layout = UNITS.filter((u) => this.workerCounts[u]).map((u) => `${u}×${this.workerCounts[u]}`).join(' ');
    log.info(`chaos: stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (API ${this.base}, workers ${layout}, logs in ${this.logDir})`);
  }

  /** The Temporal service of the run: the dev server on a SQLite file (the --ha run overrides: a cluster). */
  startTemporalService() {
    return startTemporal(this.temporalOpts);
  }

  /** The API of the run: one process on `apiPort` (the --ha run overrides: replicas behind HAProxy). Sets this.base. */
  async startApi(apiPort) {
    this.api = start('api', process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
      cwd: this.root,
      env: { ...this.baseEnv(), ...this.apiEnv, API_HOST: '127.0.0.1', API_PORT: String(apiPort), LOG_LEVEL: 'warn' },
      logFile: join(this.logDir, 'api.log'),
    });
    this.watch(this.api, 'api');
    this.base = `http://127.0.0.1:${apiPort}`;
    await waitFor('API /readyz', async () => (await fetch(`${this.base}/readyz`)).ok, { entry: this.api, timeoutMs: 90_000 });
  }

  async loadTs(file) {
    const { tsImport } = await import('tsx/esm/api');
    const mod = await tsImport(pathToFileURL(join(this.root, file)).href, import.meta.url);
    return mod.default && !('shardOf' in mod) ? mod.default : mod;
  }

  /**
   * Servers A and B as scripts/lib/stack.mjs places them (same option shape, so restartServer() works on them), with
   * datadirs <work>/mariadb-<name>, non-durable InnoDB (a chaos run's data is thrown away).
   */
  async startServers() {
    const planned = [];
    for (const s of SERVERS) {
      const options = {
        name: `mariadb-${s.name}`,
        dataDir: join(this.work, `mariadb-${s.name}`),
        port: await freePort(),
        database: DATABASE_PREFIX,
        databases: DATABASES.filter((db) => db.server === s.name).map((db) => databaseName(db.role)),
        user: 'sagaflow',
        password: 'sagaflow-chaos',
        durable: false,
        logDir: this.logDir,
      };
      planned.push({ name: s.name, port: options.port, dataDir: options.dataDir, databases: options.databases, options });
    }
    const results = await Promise.allSettled(planned.map((p) => startMariaDb(p.options)));
    const servers = results
      .map((r, i) => r.status === 'fulfilled' && { ...planned[i], url: r.value.serverUrl, entry: r.value.entry, started: r.value })
      .filter(Boolean);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(servers.map((s) => stopMariaDb(s.entry)));
      throw failed.reason;
    }
    return servers;
  }

  baseEnv() {
    return {
      NODE_ENV: 'development',
      DATABASE_URL: undefined,
      ...this.databaseEnv,
      TEMPORAL_ADDRESS: this.temporalAddress ?? `127.0.0.1:${this.temporalOpts.port}`,
      TEMPORAL_NAMESPACE: 'default',
      BROKER_URL: this.broker?.url,
      // Poison reaches the dead-letter queue within seconds (5 attempts, 200 ms doubling).
      CONSUMER_RETRY_BASE_MS: '200',
    };
  }

  /** A process that exits without being told to is a finding (and a worker is replaced, to keep the pool). */
  watch(entry, role) {
    entry.child.once('exit', (code, signal) => {
      // chaosKilled: a fault of the --ha run killed it on purpose and supervision brings it back.
      if (this.closing || entry.expectedExit || entry.chaosKilled) return;
      this.rec.violation('process-exited', { role, name: entry.name, code, signal, log: this.tail(entry.logFile) });
      if (entry.unit) {
        this.workers = this.workers.filter((w) => w !== entry);
        this.startWorker(entry.unit).catch((err) => this.rec.violation('worker-replacement-failed', { unit: entry.unit, error: err.message }));
      }
    });
  }

  tail(file, lines = 5) {
    try {
      return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n').slice(-1500);
    } catch {
      return null;
    }
  }

  /** Starts one worker process serving `unit` (WORKER_SERVE) and waits until it polls. */
  async startWorker(unit) {
    const n = ++this.workerSeq;
    const name = `worker-${unit}-${n}`;
    const logFile = join(this.logDir, `${name}.log`);
    const entry = start(name, process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: this.root,
      env: { ...this.baseEnv(), ...workerProcessEnv(this.baseEnv()), WORKER_SERVE: unit, WORKFLOW_BUNDLE_PATH: this.bundlePath, LOG_LEVEL: 'info', WORKER_SHUTDOWN_GRACE_MS: '5000', DB_POOL_MAX: '10', XA_RECOVERY_AFTER_MS: '10000', XA_RECOVERY_INTERVAL_MS: '5000' },
      logFile,
    });
    entry.logFile = logFile;
    entry.unit = unit;
    this.watch(entry, `worker:${unit}`);
    this.workers.push(entry);
    const t = Date.now();
    await waitFor(name, () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('"worker started"'), { entry, timeoutMs: 120_000, intervalMs: 200 });
    return { entry, seconds: (Date.now() - t) / 1000 };
  }

  /** A random worker (of `unit` when given). */
  pickWorker(unit) {
    const pool = unit ? this.workers.filter((w) => w.unit === unit) : this.workers;
    if (!pool.length) throw new Error(`no worker${unit ? ` of ${unit}` : ''} to pick`);
    return pool[Math.floor(Math.random() * pool.length)];
  }

  /** SIGKILL one worker (its process group), of any unit by default, then start a replacement for that unit and wait until it polls. */
  async killWorker(unit) {
    const victim = this.pickWorker(unit);
    victim.expectedExit = true;
    this.workers = this.workers.filter((w) => w !== victim);
    await stop(victim, { signal: 'SIGKILL', graceMs: 5_000 });
    const { entry, seconds } = await this.startWorker(victim.unit);
    return { unit: victim.unit, killed: victim.name, replacement: entry.name, replacementStartSeconds: seconds };
  }

  /**
   * SIGSTOP one worker for `ms`, then SIGCONT: a stalled process (GC pause, starved CPU, partition) whose activity
   * attempts time out and run again elsewhere while the stale ones are still pending, and land late when it resumes.
   */
  async pauseWorker(ms, unit) {
    const victim = this.pickWorker(unit);
    process.kill(-victim.child.pid, 'SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      process.kill(-victim.child.pid, 'SIGCONT');
    }
    return { unit: victim.unit, paused: victim.name, pausedSeconds: ms / 1000 };
  }

  /**
   * Stops every worker of `unit` (SIGTERM, the drain a deploy does; SIGKILL after the grace), keeps the unit without
   * any worker for `ms`, then starts as many again and waits until they poll. Flows needing the unit wait meanwhile.
   */
  async unitOutage(unit, ms) {
    const victims = this.workers.filter((w) => w.unit === unit);
    for (const v of victims) v.expectedExit = true;
    this.workers = this.workers.filter((w) => w.unit !== unit);
    const t = Date.now();
    await Promise.all(victims.map((v) => stop(v, { graceMs: 10_000 })));
    const stopSeconds = (Date.now() - t) / 1000;
    const down = Date.now();
    await sleep(ms);
    const replacements = await Promise.all(victims.map(() => this.startWorker(unit)));
    return {
      unit,
      stopped: victims.map((v) => v.name),
      stopSeconds,
      // From the last worker gone to every replacement polling.
      withoutWorkerSeconds: (Date.now() - down) / 1000,
      replacements: replacements.map((r) => r.entry.name),
      replacementStartSeconds: Math.max(...replacements.map((r) => r.seconds)),
    };
  }

  /** SIGTERM one MariaDB server (`a` or `b`), keep it down for `downMs`, start it again on the same datadir and port. */
  async restartServer(name, downMs) {
    const server = this.servers.find((s) => s.name === name);
    if (!server) throw new Error(`no MariaDB server ${name}`);
    const t = Date.now();
    await restartServer(server, { downMs });
    this.watch(server.entry, `mariadb-${server.name}`);
    return { server: name, databases: server.databases, downSeconds: (Date.now() - t) / 1000 };
  }

  /** Both servers at once: every database is down together. */
  async restartDb(downMs) {
    const t = Date.now();
    await Promise.all(this.servers.map((s) => restartServer(s, { downMs })));
    for (const s of this.servers) this.watch(s.entry, `mariadb-${s.name}`);
    return { servers: this.servers.map((s) => s.name), downSeconds: (Date.now() - t) / 1000 };
  }

  /**
   * SIGKILL the API process (requests in flight lose their answer), keep it down for `downMs`, start it again on the
   * same port and wait until it is ready.
   */
  async restartApi(downMs) {
    const old = this.api;
    old.expectedExit = true;
    const t = Date.now();
    await stop(old, { signal: 'SIGKILL', graceMs: 5_000 });
    await sleep(downMs);
    await this.startApi(this.apiPort);
    return { killed: old.name, downSeconds: (Date.now() - t) / 1000 };
  }

  /** SIGTERM the Temporal dev server, keep it down for `downMs`, start it again on the same SQLite file and port. */
  async restartTemporal(downMs) {
    const old = this.temporal.entry;
    old.expectedExit = true;
    const t = Date.now();
    await stop(old, { graceMs: 20_000 });
    const stopSeconds = (Date.now() - t) / 1000;
    await sleep(downMs);
    this.temporal = await startTemporal(this.temporalOpts);
    this.watch(this.temporal.entry, 'temporal');
    return { stopSeconds, downSeconds: (Date.now() - t) / 1000 };
  }

  /** SIGTERM the RabbitMQ node, keep it down for `downMs`, start it again on the same directory and ports. */
  async restartBroker(downMs) {
    const old = this.broker.entry;
    old.expectedExit = true;
    const t = Date.now();
    await stopRabbitMq(old);
    await sleep(downMs);
    this.broker = await startRabbitMq(this.brokerOpts);
    this.watch(this.broker.entry, 'rabbitmq');
    return { downSeconds: (Date.now() - t) / 1000 };
  }

  /**
   * SIGKILL a worker of a domain whose store has unpublished outbox rows right now (its relay is mid-batch or about
   * to be), then start a replacement. Prefers orders (order.confirmed), then loyalty and the ledger.
   */
  async killRelay(unit) {
    const units = unit ? [unit] : ['orders', 'loyalty', 'ledger'];
    const backlog = await this.outboxBacklog();
    const pick = units.find((u) => Object.entries(backlog).some(([db, n]) => db.startsWith(u) && n > 0)) ?? units[0];
    const detail = await this.killWorker(pick);
    return { ...detail, backlogAtKill: backlog };
  }

  /** Unpublished outbox rows per domain database. */
  async outboxBacklog() {
    const mysql = await import('mysql2/promise');
    const urls = this.databaseUrls();
    const dbs = { ...Object.fromEntries(urls.ledger.map((u, i) => [`ledger-${i}`, u])), inventory: urls.inventory, orders: urls.orders, loyalty: urls.loyalty };
    const out = {};
    for (const [name, url] of Object.entries(dbs)) {
      const c = await mysql.createConnection({ uri: url });
      try {
        out[name] = Number((await c.query('SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL'))[0][0].n);
      } finally {
        await c.end();
      }
    }
    return out;
  }

  /** Rows in the API's dead-letter table. */
  async deadLetterCount() {
    const mysql = await import('mysql2/promise');
    const c = await mysql.createConnection({ uri: this.databaseUrls().api });
    try {
      return Number((await c.query('SELECT COUNT(*) AS n FROM dead_letters'))[0][0].n);
    } catch {
      return 0;
    } finally {
      await c.end();
    }
  }

  /** Publishes `n` malformed order.confirmed events straight to the exchange (poison for loyalty); returns their ids. */
  async injectPoison(n) {
    const { Connection } = await import('rabbitmq-client');
    const { randomUUID } = await import('node:crypto');
    const rabbit = new Connection(this.broker.url);
    const pub = rabbit.createPublisher({ confirm: true, exchanges: [{ exchange: 'sagaflow.events', type: 'topic', durable: true }] });
    const ids = [];
    try {
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        ids.push(id);
        const body = { id, type: 'order.confirmed', version: 1, occurredAt: new Date().toISOString(), aggregateId: `poison-${i}`, data: { orderId: `poison-${i}` } };
        await pub.send({ exchange: 'sagaflow.events', routingKey: 'order.confirmed', messageId: id, durable: true, contentType: 'application/json' }, body);
      }
    } finally {
      await pub.close();
      await rabbit.close();
    }
    return ids;
  }

  /** Server URL per database role, for the audit (mysql2 directly). */
  databaseUrls() {
    const env = this.databaseEnv;
    return {
      ledger: env.LEDGER_DATABASE_URLS.split(','),
      inventory: env.INVENTORY_DATABASE_URL,
      orders: env.ORDERS_DATABASE_URL,
      loyalty: env.LOYALTY_DATABASE_URL,
      api: env.API_DATABASE_URL,
    };
  }

  /** Stops apps before the services they use. */
  async stopAll() {
    this.closing = true;
    await Promise.all([this.api, ...this.workers].filter(Boolean).map((e) => stop(e, { graceMs: 15_000 })));
    if (this.temporal) await stop(this.temporal.entry, { graceMs: 20_000 });
    await Promise.all(this.servers.map((s) => stopMariaDb(s.entry)));
    if (this.broker) await stopRabbitMq(this.broker.entry);
  }
}
