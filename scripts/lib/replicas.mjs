// The `--ha` application tier: two API processes behind HAProxy on the API port and two worker processes (each
// serving every unit, so every task queue has two pollers in two processes), each supervised (procs.mjs supervise);
// HAProxy also balances the Temporal frontends. rollingRestart() restarts every replica one by one the way a deploy
// does: SIGTERM (an API drains: /readyz 503 until HAProxy has taken it out, then in-flight requests finish; a worker
// finishes its tasks), wait for the exit, start it again, wait until it is back in HAProxy before the next one.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHaproxy, serverStates } from './haproxy.mjs';
import { log } from './log.mjs';
import { portInUse, start, stop, supervise, waitFor } from './procs.mjs';
import { workerProcessEnv } from './project.mjs';

/** SIGTERM turns /readyz 503 for this long before the port closes: > two HAProxy checks (inter 1s fall 2) + margin. */
export const HA_DRAIN_DELAY_MS = 4_000;

function launcher({ root, env, logDir, tsx }) {
  return {
    api: (replica) => async () => {
      const entry = start(replica.name, tsx, ['src/api/server.ts'], {
        cwd: root,
        env: { ...env, API_HOST: '127.0.0.1', API_PORT: String(replica.port), SHUTDOWN_DRAIN_DELAY_MS: String(HA_DRAIN_DELAY_MS) },
        logFile: join(logDir, `${replica.name}.log`),
      });
      replica.entry = entry;
      await waitFor(`${replica.name} /readyz`, async () => (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).ok, { entry, timeoutMs: 120_000 });
      return entry;
    },
    worker: (replica) => async () => {
      replica.entry = start(replica.name, tsx, ['src/worker.ts'], { cwd: root, env: { ...env, ...workerProcessEnv(env) }, logFile: join(logDir, `${replica.name}.log`) });
      return replica.entry;
    },
  };
}

/**
 * Starts HAProxy (API on apiHost:apiPort, Temporal on temporalPort), the API replicas on apiPort+1.. and the workers.
 * `env` is the apps' environment (databases, broker); TEMPORAL_ADDRESS is set to HAProxy's Temporal port.
 * @returns {Promise<{ apis: object[], workers: object[], haproxy: object, temporalAddress: string }>}
 */
export async function startReplicas({ root, env, logDir, apiHost, apiPort, temporalPort, temporalServers, dtmPort, count = 2 }) {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  const apis = Array.from({ length: count }, (_, i) => ({ kind: 'api', name: `api-${i + 1}`, port: apiPort + 1 + i, entry: null }));
  const workers = Array.from({ length: count }, (_, i) => ({ kind: 'worker', name: `worker-${i + 1}`, entry: null }));
  for (const [name, p] of [['TEMPORAL_PORT', temporalPort], ...apis.map((a) => [`${a.name} (API_PORT+${a.port - apiPort})`, a.port])]) {
    if (await portInUse(p)) throw new Error(`port ${p} (${name}) is busy`);
  }
  const balanced = () => ({
    root,
    logDir,
    api: { bind: `${apiHost}:${apiPort}`, servers: apis.map((a) => `127.0.0.1:${a.port}`) },
    temporal: { bind: temporalAddress, servers: temporalServers },
    ...(dtmPort ? { dtm: { bind: `${apiHost}:${dtmPort}` } } : {}),
  });
  const haproxy = await startHaproxy(balanced());
  // DTM's port belongs to HAProxy (it balances it over the replicas' API ports, which serve /api/dtmsvr too): no
  // replica opens a DTM listener of its own.
  const { DTM_PORT: _dtmPort, ...shared } = env;
  const appEnv = { ...shared, TEMPORAL_ADDRESS: temporalAddress };
  const launch = launcher({ root, env: appEnv, logDir, tsx });
  for (const r of [...workers, ...apis]) r.launch = launch[r.kind](r);
  await Promise.all([...workers, ...apis].map((r) => r.launch()));
  for (const r of [...workers, ...apis]) supervise(r.name, r.launch, { current: () => r.entry });
  supervise('haproxy', async () => Object.assign(haproxy, await startHaproxy(balanced())).entry, {
    current: () => haproxy.entry,
  });
  await waitFor('both API replicas UP in HAProxy', () => allUp(haproxy, apis), { timeoutMs: 30_000 });
  return { apis, workers, haproxy, temporalAddress };
}

async function allUp(haproxy, apis) {
  const states = await serverStates(haproxy.socket);
  return apis.every((a) => states[`api/${a.name}`] === 'UP');
}

/**
 * Restarts every replica one by one (workers first, then APIs), each with a graceful stop and only once the one before
 * is back: an API counts as back when HAProxy has it UP again. `onStep(replica, phase)` observes progress.
 */
export async function rollingRestart({ apis, workers, haproxy }, { onStep = () => {} } = {}) {
  for (const replica of [...workers, ...apis]) {
    onStep(replica, 'stopping');
    replica.entry.expectedExit = true; // supervision follows the entry launch() puts in place
    await stop(replica.entry, { graceMs: 40_000 });
    onStep(replica, 'starting');
    await replica.launch();
    if (replica.kind === 'api') {
      await waitFor(`${replica.name} UP in HAProxy`, async () => (await serverStates(haproxy.socket))[`api/${replica.name}`] === 'UP', { timeoutMs: 30_000 });
    } else {
      await sleep(3_000); // a worker needs a moment to register its pollers
    }
    onStep(replica, 'up');
    log.info(`rolling restart: ${replica.name} is back`);
  }
}
