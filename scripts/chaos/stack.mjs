// The chaos run's own stack, all on 127.0.0.1 in a temporary directory: a project-owned MariaDB (restartable on the
// same datadir and port), the Temporal dev server persisted to a SQLite file there (restartable on the same file and
// ports), the migrations, N worker processes started from a prebuilt workflow bundle (so replacements start fast)
// and one API process. Knows how to inflict each fault and how to tell that the stack recovered from it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../lib/log.mjs';
import { freePort, start, stop, waitFor } from '../lib/procs.mjs';
import { startMariaDb, stopMariaDb } from '../lib/mariadb.mjs';
import { startTemporal } from '../lib/temporal-server.mjs';

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

export class ChaosStack {
  constructor({ root, work, rec, workers, apiEnv }) {
    this.root = root;
    this.work = work;
    this.logDir = join(work, 'logs');
    this.rec = rec;
    this.workerCount = workers;
    this.apiEnv = apiEnv;
    this.workers = [];
    this.workerSeq = 0;
    this.closing = false;
  }

  async start(searchAttributes) {
    const started = Date.now();
    const [dbPort, tPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    this.db = { dataDir: join(this.work, 'mariadb'), port: dbPort, database: 'sagaflow', user: 'sagaflow', password: 'sagaflow-chaos', durable: false, logDir: this.logDir };
    this.temporalOpts = { port: tPort, uiPort: 0, headless: true, dbFile: join(this.work, 'temporal.sqlite'), namespace: 'default', searchAttributes, logDir: this.logDir };
    this.bundlePath = join(this.work, 'workflow-bundle.js');
    const bundled = run(process.execPath, [join(this.root, 'scripts/bundle-workflows.mjs'), this.bundlePath], { cwd: this.root });
    bundled.catch(() => undefined); // awaited below
    const [mariadb, temporal] = await Promise.all([startMariaDb(this.db), startTemporal(this.temporalOpts)]);
    this.mariadb = mariadb;
    this.temporal = temporal;
    this.watch(mariadb.entry, 'mariadb');
    this.watch(temporal.entry, 'temporal');
    this.databaseUrl = mariadb.url;
    log.info(`chaos: MariaDB on 127.0.0.1:${dbPort}, Temporal on ${temporal.address} (SQLite ${this.temporalOpts.dbFile})`);
    await run(join(this.root, 'node_modules/.bin/tsx'), ['src/db/migrate-cli.ts', 'up'], { cwd: this.root, env: this.baseEnv() });
    await bundled;
    this.apiPort = apiPort;
    this.api = start('api', process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
      cwd: this.root,
      env: { ...this.baseEnv(), ...this.apiEnv, API_HOST: '127.0.0.1', API_PORT: String(apiPort), LOG_LEVEL: 'warn' },
      logFile: join(this.logDir, 'api.log'),
    });
    this.watch(this.api, 'api');
    await Promise.all(Array.from({ length: this.workerCount }, () => this.startWorker()));
    this.base = `http://127.0.0.1:${apiPort}`;
    await waitFor('API /readyz', async () => (await fetch(`${this.base}/readyz`)).ok, { entry: this.api, timeoutMs: 90_000 });
    log.info(`chaos: stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (API ${this.base}, ${this.workerCount} workers, logs in ${this.logDir})`);
  }

  baseEnv() {
    return {
      NODE_ENV: 'development',
      DATABASE_URL: this.databaseUrl ?? this.mariadb?.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${this.temporalOpts.port}`,
      TEMPORAL_NAMESPACE: 'default',
    };
  }

  /** A process that exits without being told to is a finding (and a worker is replaced, to keep the pool). */
  watch(entry, role) {
    entry.child.once('exit', (code, signal) => {
      if (this.closing || entry.expectedExit) return;
      this.rec.violation('process-exited', { role, name: entry.name, code, signal, log: this.tail(entry.logFile) });
      if (role === 'worker') {
        this.workers = this.workers.filter((w) => w !== entry);
        this.startWorker().catch((err) => this.rec.violation('worker-replacement-failed', { error: err.message }));
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

  async startWorker() {
    const n = ++this.workerSeq;
    const logFile = join(this.logDir, `worker-${n}.log`);
    const entry = start(`worker-${n}`, process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: this.root,
      env: { ...this.baseEnv(), WORKFLOW_BUNDLE_PATH: this.bundlePath, LOG_LEVEL: 'info', WORKER_SHUTDOWN_GRACE_MS: '5000' },
      logFile,
    });
    entry.logFile = logFile;
    this.watch(entry, 'worker');
    this.workers.push(entry);
    const t = Date.now();
    await waitFor(`worker-${n}`, () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('"worker started"'), { entry, timeoutMs: 90_000, intervalMs: 200 });
    return { entry, seconds: (Date.now() - t) / 1000 };
  }

  /** SIGKILL one worker (its process group), then start a replacement and wait until it polls. */
  async killWorker() {
    const victim = this.workers[Math.floor(Math.random() * this.workers.length)];
    victim.expectedExit = true;
    this.workers = this.workers.filter((w) => w !== victim);
    await stop(victim, { signal: 'SIGKILL', graceMs: 5_000 });
    const { entry, seconds } = await this.startWorker();
    return { killed: victim.name, replacement: entry.name, replacementStartSeconds: seconds };
  }

  /**
   * SIGSTOP one worker for `ms`, then SIGCONT: a stalled process (GC pause, starved CPU, partition) whose activity
   * attempts time out and run again elsewhere while the stale ones are still pending, and land late when it resumes.
   */
  async pauseWorker(ms) {
    const victim = this.workers[Math.floor(Math.random() * this.workers.length)];
    process.kill(-victim.child.pid, 'SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      process.kill(-victim.child.pid, 'SIGCONT');
    }
    return { paused: victim.name, pausedSeconds: ms / 1000 };
  }

  /** SIGTERM MariaDB, keep it down for `downMs`, start it again on the same datadir and port. */
  async restartDb(downMs) {
    const old = this.mariadb.entry;
    old.expectedExit = true;
    const t = Date.now();
    await stopMariaDb(old);
    const stopSeconds = (Date.now() - t) / 1000;
    await sleep(downMs);
    this.mariadb = await startMariaDb(this.db);
    this.watch(this.mariadb.entry, 'mariadb');
    return { stopSeconds, downSeconds: (Date.now() - t) / 1000 };
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

  /** Stops apps before the services they use. */
  async stopAll() {
    this.closing = true;
    await Promise.all([this.api, ...this.workers].filter(Boolean).map((e) => stop(e, { graceMs: 15_000 })));
    if (this.temporal) await stop(this.temporal.entry, { graceMs: 20_000 });
    if (this.mariadb) await stopMariaDb(this.mariadb.entry);
  }
}
