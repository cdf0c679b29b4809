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

function serverArgs({ ip, port, uiPort, dbFile, namespace, searchAttributes, headless }) {
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  if (headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', ip);
  if (dbFile) args.push('--db-filename', dbFile);
  for (const [name, type] of Object.entries(searchAttributes)) args.push('--search-attribute', `${name}=${type}`);
  for (const [k, v] of Object.entries(DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
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
