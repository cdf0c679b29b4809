// Child processes owned by a script: each in its own process group, logged to a file, all stopped when the script
// ends (normally, by error, or on Ctrl-C / SIGTERM), so nothing is left behind.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
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
