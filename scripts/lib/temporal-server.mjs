// Starts the real Temporal dev server (frontend, history, matching, visibility and the Web UI in one process):
// persisted to a SQLite file for `npm run dev`, in memory for tests. The project's search attributes are
// registered at start, and the dynamic config enables updates and update-with-start.
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findTemporalCli, INSTALL_HELP } from './temporal-cli.mjs';
import { start, waitFor } from './procs.mjs';
import { log } from './log.mjs';

export const DYNAMIC_CONFIG = {
  'frontend.enableUpdateWorkflowExecution': true,
  'frontend.enableExecuteMultiOperation': true,
  'system.forceSearchAttributesCacheRefreshOnRead': true,
};

/**
 * A dev server on a SQLite file (`npm run dev`, the bench, chaos) registers the search attributes itself while it
 * boots, so it never needs the forced re-read of their definitions that DYNAMIC_CONFIG asks for (a storage read on
 * every start and upsert; Temporal meant it for tests). The in-memory test server and the cluster (whose attributes are
 * registered through the operator API after it boots) keep it.
 */
export const FILE_DYNAMIC_CONFIG = { 'system.forceSearchAttributesCacheRefreshOnRead': false };

/**
 * A single-process dev server gains nothing from several partitions per task queue: with one, a poll and a task always
 * meet on the same partition (no forwarding between partitions, no pollers idle on an empty one). Measured by the
 * bench since 0.3 (same throughput, p99 −30 %); `npm run dev` now runs what the bench measures (bench/NOTES.md, 0.5).
 */
export const DEV_SERVER_DYNAMIC_CONFIG = { 'matching.numTaskqueueReadPartitions': 1, 'matching.numTaskqueueWritePartitions': 1 };

/**
 * SQLite in write-ahead-log mode, every commit still synced (`synchronous=full`): as durable as the dev server's default
 * rollback journal (a commit that returned survives a crash of the process or the machine), with one sync per commit
 * instead of several and no page copied twice.
 */
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=full'];

/** The dynamic config a dev server runs with: in memory (`file: false`) or on a SQLite file. */
export function devServerDynamicConfig({ file }) {
  return { ...DEV_SERVER_DYNAMIC_CONFIG, ...DYNAMIC_CONFIG, ...(file ? FILE_DYNAMIC_CONFIG : {}) };
}

function serverArgs({ ip, port, uiPort, dbFile, namespace, searchAttributes, headless, codecEndpoint }) {
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  if (headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', ip);
  // The Web UI decodes payloads through the API's codec endpoints (the browser calls them; CORS allows the UI's origin).
  if (!headless && codecEndpoint) args.push('--ui-codec-endpoint', codecEndpoint);
  if (dbFile) args.push('--db-filename', dbFile, ...SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]));
  for (const [name, type] of Object.entries(searchAttributes)) args.push('--search-attribute', `${name}=${type}`);
  for (const [k, v] of Object.entries(devServerDynamicConfig({ file: !!dbFile }))) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  return args;
}

function healthy(cli, address) {
  const r = spawnSync(cli, ['operator', 'cluster', 'health', '--address', address], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && /SERVING/.test(r.stdout);
}

/** The same check without blocking the event loop (callers may be serving traffic while the server (re)starts). */
function healthyAsync(cli, address) {
  return new Promise((resolve) => {
    execFile(cli, ['operator', 'cluster', 'health', '--address', address], { encoding: 'utf8', timeout: 5000 }, (err, stdout) =>
      resolve(!err && /SERVING/.test(stdout)),
    );
  });
}

/**
 * @returns {{ address: string, uiUrl: string|null, cli: string, entry: object, options: object }} `options`: what it was
 *   started with (startTemporal(options) starts it again, e.g. under supervision).
 */
export async function startTemporal(opts) {
  const { ip = '127.0.0.1', port, uiPort, logDir } = opts;
  const address = `${ip}:${port}`;
  const cli = findTemporalCli();
  if (!cli) {
    log.error(INSTALL_HELP);
    throw new Error('no Temporal CLI available');
  }
  const entry = start('temporal', cli, serverArgs({ ip, ...opts }), { logFile: join(logDir, 'temporal.log') });
  await waitFor(`Temporal dev server on ${address}`, () => healthyAsync(cli, address), { entry, timeoutMs: 90_000 });
  return { address, uiUrl: opts.headless ? null : `http://${ip}:${uiPort}`, cli, entry, options: opts };
}

export function temporalHealthy(cli, address) {
  return healthy(cli, address);
}
