// HAProxy (Debian's haproxy 2.6) in front of the API replicas and the Temporal frontends, with deploy/haproxy/haproxy.cfg
// (the file docker-compose.yml mounts too) and the addresses in its environment. Installs the package when it is
// missing and we are root. The runtime API socket answers `show servers state` (serverStates()).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { log } from './log.mjs';
import { freePort, start, waitFor } from './procs.mjs';

const isRoot = process.getuid?.() === 0;

export function ensureHaproxyInstalled() {
  const found = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));
  if (found) return found;
  if (!isRoot) throw new Error('HAProxy is not installed. Install it (Debian/Ubuntu: sudo apt-get install haproxy).');
  log.info('installing haproxy from Debian packages (first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'haproxy'], { stdio: 'inherit', env });
  if (r.status !== 0 || !existsSync('/usr/sbin/haproxy')) throw new Error(`apt-get install haproxy failed (exit ${r.status})`);
  return '/usr/sbin/haproxy';
}

/**
 * Starts HAProxy in the foreground. `api` / `temporal`: { bind: 'host:port', servers: ['host:port', 'host:port'] };
 * `dtm`: { bind } for DTM-protocol clients, balanced over the API replicas (a free port when no one asks for one).
 * @returns {{ entry: object, socket: string, env: object }}
 */
export async function startHaproxy({ root, logDir, api, temporal, dtm }) {
  const bin = ensureHaproxyInstalled();
  const socket = join(logDir, 'haproxy.sock');
  const env = {
    API_BIND: api.bind,
    DTM_BIND: dtm?.bind ?? `127.0.0.1:${await freePort()}`,
    API_SERVER_1: api.servers[0],
    API_SERVER_2: api.servers[1],
    TEMPORAL_BIND: temporal.bind,
    TEMPORAL_SERVER_1: temporal.servers[0],
    TEMPORAL_SERVER_2: temporal.servers[1],
    HAPROXY_SOCKET: socket,
  };
  const config = join(root, 'deploy', 'haproxy', 'haproxy.cfg');
  const check = spawnSync(bin, ['-c', '-q', '-f', config], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c failed: ${check.stderr.trim()}`);
  const entry = start('haproxy', bin, ['-db', '-f', config], { env, logFile: join(logDir, 'haproxy.log') });
  await waitFor(`HAProxy on ${api.bind}`, () => existsSync(socket), { entry, timeoutMs: 15_000 });
  return { entry, socket, env, bin, config };
}

/** `show servers state` over the runtime API: { 'api/api-1': 'UP'|'DOWN'|'MAINT'|'DRAIN', … }. */
export function serverStates(socket) {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let out = '';
    conn.on('data', (d) => (out += d));
    conn.on('error', reject);
    conn.on('end', () => {
      const states = {};
      for (const line of out.split('\n')) {
        const f = line.split(' ');
        // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state …
        if (f.length < 7 || !/^\d+$/.test(f[0])) continue;
        const op = Number(f[5]);
        const admin = Number(f[6]);
        states[`${f[1]}/${f[3]}`] = admin & 1 ? 'MAINT' : admin & 8 ? 'DRAIN' : op === 2 ? 'UP' : 'DOWN';
      }
      resolve(states);
    });
    conn.write('show servers state\n');
  });
}

export function haproxyVersion(bin) {
  return execFileSync(bin, ['-v'], { encoding: 'utf8' }).split('\n')[0];
}
