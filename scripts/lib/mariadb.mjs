// A project-owned MariaDB instance: its own datadir, port and socket, an app user with a password. Installs Debian's
// mariadb-server when it is missing and we are root; otherwise says what to install. Never touches a system instance.
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { start, stop, waitFor } from './procs.mjs';
import { log } from './log.mjs';

const isRoot = process.getuid?.() === 0;

function which(cmd) {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(':')]) {
    if (existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

function binaries() {
  return {
    server: which('mariadbd') ?? which('mysqld'),
    installDb: which('mariadb-install-db') ?? which('mysql_install_db'),
    client: which('mariadb') ?? which('mysql'),
  };
}

export function ensureMariaDbInstalled() {
  let bins = binaries();
  if (bins.server && bins.installDb && bins.client) return bins;
  if (!isRoot) {
    throw new Error(
      'MariaDB is not installed. Install it (Debian/Ubuntu: sudo apt-get install mariadb-server), or set DATABASE_URL ' +
        'to a MySQL 8 / MariaDB 10.11 database.',
    );
  }
  log.info('installing mariadb-server from Debian packages (first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'mariadb-server', 'mariadb-client'], {
    stdio: 'inherit',
    env,
  });
  bins = binaries();
  if (r.status !== 0 || !bins.server) throw new Error(`apt-get install mariadb-server failed (exit ${r.status})`);
  return bins;
}

function sql(bins, socket, statement) {
  const user = isRoot ? 'root' : userInfo().username;
  const r = spawnSync(bins.client, ['--no-defaults', `--socket=${socket}`, '-u', user, '-e', statement], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`SQL as ${user} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Starts MariaDB on `port` with its data in `dataDir` (initialised when empty), creates `databases` (default: just
 * `database`) and the app user, allowed on `database` and every `database_*` (the grant is a pattern, so databases the
 * application creates itself later are covered). `name` names the process and its log files (<logDir>/<name>.log), so
 * several instances can share a log directory. Calling it again with the same options restarts a stopped instance.
 * @returns {{ url: string, serverUrl: string, port: number, entry: object, socket: string, bins: object }} `url` points
 *   at `database`, `serverUrl` at no database.
 */
export async function startMariaDb({ dataDir, port, database, databases = [database], user, password, durable = true, logDir, name = 'mariadb' }) {
  const bins = ensureMariaDbInstalled();
  mkdirSync(dataDir, { recursive: true });
  if (isRoot) chownSync(dataDir, uidOf('mysql'), gidOf('mysql'));
  // A temporary directory of the instance's own: with the shared /tmp, instances initialised at the same moment (the
  // two servers of one run, or two runs) collide on their temporary table names and abort.
  const tmpDir = `${dataDir}-tmp`;
  mkdirSync(tmpDir, { recursive: true });
  if (isRoot) chownSync(tmpDir, uidOf('mysql'), gidOf('mysql'));
  const initialised = existsSync(join(dataDir, 'mysql'));
  if (!initialised) {
    const args = ['--no-defaults', `--datadir=${dataDir}`, `--tmpdir=${tmpDir}`, '--auth-root-authentication-method=socket', '--skip-test-db'];
    if (isRoot) args.push('--user=mysql');
    const r = spawnSync(bins.installDb, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mariadb-install-db failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  const socket = join(dataDir, 'mysqld.sock');
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--tmpdir=${tmpDir}`,
    `--socket=${socket}`,
    `--pid-file=${join(dataDir, 'mysqld.pid')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--log-error=${join(logDir, `${name}.log`)}`,
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--max-connections=500',
    '--innodb-buffer-pool-size=256M',
    '--skip-name-resolve',
  ];
  if (!durable) args.push('--innodb-flush-log-at-trx-commit=2', '--innodb-doublewrite=0');
  if (isRoot) args.push('--user=mysql');
  mkdirSync(logDir, { recursive: true });
  if (isRoot) chownSync(logDir, uidOf('mysql'), gidOf('mysql'));
  const entry = start(name, bins.server, args, { logFile: join(logDir, `${name}.stdout.log`) });
  await waitFor(`MariaDB ${name} on 127.0.0.1:${port} (log: ${join(logDir, `${name}.log`)})`, async () => existsSync(socket) && (await pingable(bins, socket)), {
    entry,
    timeoutMs: 60_000,
  });
  const q = (s) => s.replace(/'/g, "''");
  const creates = databases.map((db) => `CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`);
  sql(
    bins,
    socket,
    `${creates.join('\n')}
     CREATE USER IF NOT EXISTS '${q(user)}'@'127.0.0.1' IDENTIFIED BY '${q(password)}';
     CREATE USER IF NOT EXISTS '${q(user)}'@'localhost' IDENTIFIED BY '${q(password)}';
     GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${q(user)}'@'127.0.0.1';
     GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${q(user)}'@'localhost';
     GRANT ALL PRIVILEGES ON \`${database}\\_%\`.* TO '${q(user)}'@'127.0.0.1';
     GRANT ALL PRIVILEGES ON \`${database}\\_%\`.* TO '${q(user)}'@'localhost';`,
  );
  const serverUrl = `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/`;
  return { url: `${serverUrl}${database}`, serverUrl, port, entry, socket, bins };
}

/** Asynchronous, so a caller that serves traffic meanwhile (the chaos run restarting MariaDB) is not blocked. */
function pingable(bins, socket) {
  const user = isRoot ? 'root' : userInfo().username;
  return new Promise((resolve) => {
    execFile(bins.client, ['--no-defaults', `--socket=${socket}`, '-u', user, '-e', 'SELECT 1'], { timeout: 5000 }, (err) => resolve(!err));
  });
}

function idOf(flag, name) {
  const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`no system user ${name}`);
  return Number(r.stdout.trim());
}
const uidOf = (name) => idOf('-u', name);
const gidOf = (name) => idOf('-g', name);

export async function stopMariaDb(entry) {
  await stop(entry, { graceMs: 30_000 });
}

/** Removes a datadir once its server has stopped (test instances only). */
export async function removeDataDir(dir) {
  for (let i = 0; i < 5; i++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch {
      await sleep(200);
    }
  }
}

export function isDataDirInUse(dataDir) {
  return existsSync(join(dataDir, 'mysqld.pid')) && readdirSync(dataDir).length > 0 && statSync(dataDir).isDirectory();
}
