// A real `npm run dev` (scripts/dev.mjs) for the dev scenario, as test/e2e/self-healing.test.ts starts one: every port
// it takes free (API, both MariaDB servers, Temporal and its UI, DTM), its state in a temporary SAGAFLOW_DATA_DIR, the
// bench stack's broker under a BROKER_PREFIX of its own (no second RabbitMQ node); nothing else set, so its MariaDB
// servers, its Temporal dev server on its SQLite file, its API and its worker run exactly as dev.mjs starts them. Ready
// once it prints its banner; its processes are found by process group (dev.mjs starts each service in its own group);
// stopped with SIGINT (its own handler stops everything), every group it had killed after a timeout, the directory
// removed (its logs kept with --keep-logs).
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../../scripts/lib/log.mjs';
import { freePort, onCleanup, waitFor } from '../../scripts/lib/procs.mjs';
import { descendantGroups } from './proc.mjs';

const PORT_VARS = ['API_PORT', 'MARIADB_PORT', 'MARIADB_SECOND_PORT', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'DTM_PORT'];
const BANNER = 'sagaflow is running';
// What each process group of the dev stack is, by its leader's command line (dev.mjs itself: `supervisor`).
const ROLES = [
  [/src\/worker\.ts/, 'worker'],
  [/src\/api\/server\.ts/, 'api'],
  [/start-dev/, 'temporal'],
  [/mariadb-a\b/, 'mariadb_a'],
  [/mariadb-b\b/, 'mariadb_b'],
];

async function freePorts() {
  const ports = new Set();
  while (ports.size < PORT_VARS.length) ports.add(await freePort());
  return Object.fromEntries(PORT_VARS.map((k, i) => [k, String([...ports][i])]));
}

/** The dev stack's process groups by role: { supervisor, api, worker, temporal, mariadb_a, mariadb_b } → pgid. */
function roleGroups(rootPid) {
  const out = {};
  for (const [pgid, cmd] of descendantGroups(rootPid)) {
    const role = pgid === rootPid ? 'supervisor' : (ROLES.find(([re]) => re.test(cmd))?.[1] ?? `other_${pgid}`);
    out[role] ??= pgid;
  }
  return out;
}

/** Starts `npm run dev`; resolves once its banner is out: { base, headers, groups(), stop() }. */
export async function startDev({ root, brokerUrl, keepLogsIn }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sagaflow-bench-dev-'));
  chmodSync(dataDir, 0o755); // the mysql system user must reach the datadirs inside
  const ports = await freePorts();
  const env = { ...process.env, ...ports, SAGAFLOW_DATA_DIR: dataDir, BROKER_URL: brokerUrl, BROKER_PREFIX: `bench-dev-${process.pid}` };
  const out = createWriteStream(join(dataDir, 'npm-run-dev.log'));
  const child = spawn(process.execPath, ['scripts/dev.mjs'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let ready = false;
  let tail = '';
  const onData = (d) => {
    out.write(d);
    tail = (tail + d).slice(-4000);
    ready ||= tail.includes(BANNER);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const entry = { exited: false, code: null }; // as waitFor reads a procs.mjs entry
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(Object.assign(entry, { exited: true, code: code ?? sig }))));
  let seen = {};
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    seen = { ...seen, ...roleGroups(child.pid) };
    if (!entry.exited) {
      child.kill('SIGINT'); // its own handler stops everything it started
      if ((await Promise.race([exited.then(() => 'exited'), sleep(60_000)])) !== 'exited') log.warn('npm run dev did not stop within 60 s; killing its processes');
    }
    for (const pgid of new Set([child.pid, ...Object.values(seen)])) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    out.end();
    if (keepLogsIn) {
      mkdirSync(keepLogsIn, { recursive: true });
      cpSync(join(dataDir, 'npm-run-dev.log'), join(keepLogsIn, 'npm-run-dev.log'));
      cpSync(join(dataDir, 'logs'), join(keepLogsIn, 'logs'), { recursive: true });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  onCleanup(stop); // the bench stopped early: still stopped
  const t0 = Date.now();
  try {
    await waitFor(`npm run dev: "${BANNER}"`, async () => ready, { entry, timeoutMs: 300_000, intervalMs: 500 });
  } catch (err) {
    throw new Error(`${err.message}\n${tail}`, { cause: err });
  }
  seen = roleGroups(child.pid);
  log.info(`bench: npm run dev up in ${((Date.now() - t0) / 1000).toFixed(1)} s (API :${ports.API_PORT}, data ${dataDir}; processes ${JSON.stringify(seen)})`);
  // As dev.mjs's own demo transfer: the first of API_KEYS when the caller's environment sets them.
  const key = process.env.API_KEYS?.split(',')[0].trim().replace(/^[A-Za-z0-9_.-]{1,60}:/, '');
  return {
    base: `http://127.0.0.1:${ports.API_PORT}`,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    /** Its process groups now (a supervised restart gets a new one). */
    groups: () => (seen = { ...seen, ...roleGroups(child.pid) }),
    stop,
  };
}
