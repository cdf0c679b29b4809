// Child processes owned by a script: each in its own process group, logged to a file, all stopped when the script
// ends (normally, by error, or on Ctrl-C / SIGTERM), so nothing is left behind.
//
// Supervision (npm run dev): `supervise(name, launch, options)` keeps one service up. `launch()` starts the service
// and resolves to its entry (from `start()`) once it is ready; when that process exits while the script is not
// stopping, the supervisor logs it, waits a backoff (baseMs doubling to maxMs, reset after stableMs of uptime) and
// calls `launch()` again (a launch that fails is retried the same way). An entry marked `expectedExit = true` before
// it stops (a deliberate restart, e.g. stack.mjs restartServer) is not restarted. Every restart is counted in
// `restartCounts()` and, when `writeRestartCounts(file)` was called, written to that JSON file ({ name: count })
// — the API reads it for `sagaflow_supervisor_restarts_total` (SUPERVISOR_STATE_FILE). With `current: () => x.entry`
// the supervisor reads the running entry where its owner keeps it (launch() must update it there), so it follows a
// deliberate restart. `supervised.stop()` ends supervision of one service (cleanup() still stops its process).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from './log.mjs';

const children = new Set();

export function start(name, command, args, { logFile, env, cwd, inherit = false } = {}) {
  let stdio = 'inherit';
  if (!inherit) {
    mkdirSync(dirname(logFile), { recursive: true });
    stdio = ['ignore', 'pipe', 'pipe'];
  }
  const child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio, detached: true });
  if (!inherit) {
    const out = createWriteStream(logFile, { flags: 'a' });
    // Both streams share one file: neither may end it while the other still writes (write after end).
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.once('close', () => out.end());
  }
  const entry = { name, child, exited: false, code: null };
  child.on('exit', (code, signal) => {
    entry.exited = true;
    entry.code = code ?? signal;
    children.delete(entry);
  });
  children.add(entry);
  return entry;
}

export async function stop(entry, { graceMs = 10_000, signal = 'SIGTERM' } = {}) {
  if (entry.exited) return;
  const gone = new Promise((resolve) => entry.child.once('exit', resolve));
  try {
    process.kill(-entry.child.pid, signal);
  } catch {
    return;
  }
  const timedOut = await Promise.race([gone.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) {
    log.warn(`${entry.name} did not stop within ${graceMs} ms; killing it`);
    try {
      process.kill(-entry.child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await gone;
  }
}

export async function stopAll() {
  // Reverse start order: apps before the services they use.
  await Promise.all([...children].reverse().map((c) => stop(c)));
}

let cleanupHooks = [];
let stopping = false;
/** True once cleanup began: children exiting from then on are expected. */
export const isStopping = () => stopping;
export function onCleanup(fn) {
  cleanupHooks.push(fn);
}

export async function cleanup() {
  stopping = true;
  await stopAll();
  const hooks = cleanupHooks;
  cleanupHooks = [];
  for (const fn of hooks.reverse()) {
    try {
      await fn();
    } catch (err) {
      log.warn(`cleanup step failed: ${err.message}`);
    }
  }
}

/** Stops everything on Ctrl-C / SIGTERM, then exits with `code`. */
export function stopOnSignals() {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, async () => {
      if (stopping) return;
      stopping = true;
      log.info(`${sig}: stopping everything this script started`);
      await cleanup();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function portInUse(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}

export async function waitFor(what, check, { timeoutMs = 60_000, intervalMs = 250, entry } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (entry?.exited) throw new Error(`${what}: process exited (${entry.code}) before it was ready`);
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${lastErr ? `: ${lastErr.message}` : ''}`);
}

const restarts = new Map();
let restartsFile;

/** The restarts counted so far, by supervised name. */
export const restartCounts = () => Object.fromEntries(restarts);

/** Keeps `file` (JSON { name: restarts }) up to date from now on; written at once, replaced atomically. */
export function writeRestartCounts(file) {
  restartsFile = file;
  flushRestartCounts();
}

function flushRestartCounts() {
  if (!restartsFile) return;
  mkdirSync(dirname(restartsFile), { recursive: true });
  writeFileSync(`${restartsFile}.tmp`, JSON.stringify(restartCounts()));
  renameSync(`${restartsFile}.tmp`, restartsFile);
}

/** The wait before the n-th consecutive restart (n from 1): baseMs doubling, at most maxMs. */
export function backoffMs(n, { baseMs = 500, maxMs = 15_000 } = {}) {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, n - 1));
}

/**
 * Keeps `name` running: see the header.
 * @param {string} name
 * @param {() => Promise<object>} launch starts the service, resolves to its procs entry once ready
 * @param {{ current?: () => object|undefined, baseMs?: number, maxMs?: number, stableMs?: number }} [options]
 *   `current` reads the service's running entry where its owner keeps it (e.g. `() => server.entry`, which a
 *   deliberate restart replaces: supervision follows the new entry); without it the supervisor launches at once and
 *   keeps the entry itself.
 * @returns {{ name: string, readonly entry: object|undefined, readonly restarts: number, stop(): void }}
 */
export function supervise(name, launch, { current, baseMs = 500, maxMs = 15_000, stableMs = 30_000 } = {}) {
  restarts.set(name, restarts.get(name) ?? 0);
  flushRestartCounts();
  let own;
  const entryNow = () => (current ? current() : own);
  let ended = false;
  const over = () => ended || isStopping();
  let streak = 0; // consecutive restarts without stableMs of uptime between them
  const relaunch = async () => {
    while (!over()) {
      try {
        own = await launch();
        if (isStopping()) await stop(own);
        return;
      } catch (err) {
        streak += 1;
        const wait = backoffMs(streak, { baseMs, maxMs });
        log.warn(`${name}: start failed (${err.message}); trying again in ${wait} ms`);
        await sleep(wait);
      }
    }
  };
  const watch = async () => {
    if (!entryNow()) await relaunch();
    while (!over()) {
      const running = entryNow();
      const since = Date.now();
      const code = await new Promise((resolve) => (running.exited ? resolve(running.code) : running.child.once('exit', (c, sig) => resolve(c ?? sig))));
      if (over()) return;
      if (running.expectedExit) {
        // A deliberate restart by the service's owner: follow the entry that replaces it.
        while (!over() && (entryNow() === running || entryNow()?.exited)) await sleep(250);
        continue;
      }
      if (Date.now() - since >= stableMs) streak = 0;
      streak += 1;
      restarts.set(name, (restarts.get(name) ?? 0) + 1);
      flushRestartCounts();
      const wait = backoffMs(streak, { baseMs, maxMs });
      log.warn(`${name} exited unexpectedly (${code}); restarting it in ${wait} ms (restart ${restarts.get(name)})`);
      // What it started may outlive it (a tsx wrapper's node child holding the port): its whole process group goes first.
      try {
        process.kill(-running.child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
      await sleep(wait);
      await relaunch();
    }
  };
  watch().catch((err) => log.error(`${name}: supervision failed: ${err.message}`));
  return {
    name,
    get entry() {
      return entryNow();
    },
    get restarts() {
      return restarts.get(name) ?? 0;
    },
    stop() {
      ended = true;
    },
  };
}
