// A project-owned PostgreSQL instance (Temporal's persistence and visibility in `--cluster` mode): its own datadir,
// port, socket directory (inside the datadir) and superuser with a password. Installs Debian's postgresql when it is
// missing and we are root; never touches the system cluster (/var/lib/postgresql). Run as the `postgres` system user
// when started by root (setpriv execs, so the process we supervise is the server itself).
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, stop, waitFor } from './procs.mjs';
import { log } from './log.mjs';

const isRoot = process.getuid?.() === 0;

function binDir() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

export function ensurePostgresInstalled() {
  let dir = binDir();
  if (dir) return dir;
  if (!isRoot) throw new Error('PostgreSQL is not installed. Install it (Debian/Ubuntu: sudo apt-get install postgresql).');
  log.info('installing postgresql from Debian packages (first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { stdio: 'inherit', env });
  dir = binDir();
  if (r.status !== 0 || !dir) throw new Error(`apt-get install postgresql failed (exit ${r.status})`);
  return dir;
}

/** argv running `cmd` as the postgres system user when we are root (setpriv execs: no intermediate process). */
function asPostgres(cmd, args) {
  if (!isRoot) return [cmd, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]];
}

function ownByPostgres(path) {
  if (!isRoot) return;
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  chownSync(path, uid, gid);
}

function initDataDir(bin, { dataDir, user, password }) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  ownByPostgres(dataDir);
  // The password reaches initdb through a file readable by the server's user only, removed right after.
  const pwFile = `${dataDir}.pw`;
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  ownByPostgres(pwFile);
  try {
    const [cmd, args] = asPostgres(join(bin, 'initdb'), [
      '-D', dataDir, '-U', user, `--pwfile=${pwFile}`, '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-instructions',
    ]);
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  } finally {
    rmSync(pwFile, { force: true });
  }
}

/**
 * Starts PostgreSQL on 127.0.0.1:`port` with its data in `dataDir` (initialised when empty, `user` its superuser with
 * `password`). `durable: false` (tests) turns fsync off. Calling it again with the same options restarts a stopped
 * instance. `name` names the process and its log file (<logDir>/<name>.log).
 * @returns {{ port: number, entry: object, socketDir: string, bin: string }}
 */
export async function startPostgres({ dataDir, port, user, password, durable = true, logDir, name = 'postgresql' }) {
  const bin = ensurePostgresInstalled();
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initDataDir(bin, { dataDir, user, password });
  mkdirSync(logDir, { recursive: true });
  const settings = ['listen_addresses=127.0.0.1', `unix_socket_directories=${dataDir}`, 'max_connections=300', 'shared_buffers=128MB'];
  if (!durable) settings.push('fsync=off', 'synchronous_commit=off', 'full_page_writes=off');
  const [cmd, args] = asPostgres(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), ...settings.flatMap((s) => ['-c', s])]);
  const entry = start(name, cmd, args, { logFile: join(logDir, `${name}.log`) });
  await waitFor(`PostgreSQL ${name} on 127.0.0.1:${port} (log: ${join(logDir, `${name}.log`)})`, () => ready(bin, port), { entry, timeoutMs: 60_000 });
  return { port, entry, socketDir: dataDir, bin };
}

function ready(bin, port) {
  return new Promise((resolve) => {
    execFile(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { timeout: 5000 }, (err) => resolve(!err));
  });
}

/** Fast shutdown (SIGINT): the default SIGTERM would wait for every client (the Temporal nodes) to disconnect. */
export async function stopPostgres(entry) {
  await stop(entry, { signal: 'SIGINT', graceMs: 30_000 });
}
