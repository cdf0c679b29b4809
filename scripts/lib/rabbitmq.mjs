// A project-owned RabbitMQ node: Debian's rabbitmq-server (installed with apt when missing and we are root), run with
// its own node name, Erlang cookie (HOME), data and log directories under the run's work dir, its own AMQP,
// distribution and epmd ports on 127.0.0.1 and an app user with a password. Nothing is shared with a system instance:
// not the node name, not /var/lib/rabbitmq, not the system epmd (ours runs on its own port and is stopped with the node).
import { spawnSync, execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { log } from './log.mjs';
import { start, stop, waitFor } from './procs.mjs';

const isRoot = process.getuid?.() === 0;
const BIN = '/usr/lib/rabbitmq/bin';

function binaries() {
  const epmd = ['/usr/bin/epmd', '/usr/lib/erlang/bin/epmd'].find((p) => existsSync(p));
  const server = join(BIN, 'rabbitmq-server');
  const ctl = join(BIN, 'rabbitmqctl');
  return existsSync(server) && existsSync(ctl) && epmd ? { server, ctl, epmd } : null;
}

export function ensureRabbitMqInstalled() {
  let bins = binaries();
  if (bins) return bins;
  if (!isRoot) {
    throw new Error('RabbitMQ is not installed. Install it (Debian/Ubuntu: sudo apt-get install rabbitmq-server), or set BROKER_URL to a RabbitMQ 3.10+ broker.');
  }
  log.info('installing rabbitmq-server from Debian packages (first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'rabbitmq-server'], { stdio: 'inherit', env });
  bins = binaries();
  if (r.status !== 0 || !bins) throw new Error(`apt-get install rabbitmq-server failed (exit ${r.status})`);
  return bins;
}

function amqpAnswers(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      // An AMQP 0-9-1 protocol header: a broker that is up answers with connection.start.
      s.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    });
    s.setTimeout(2000, () => (s.destroy(), resolve(false)));
    s.once('data', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function envOf(o) {
  return {
    HOME: o.dir, // the Erlang cookie lives here: rabbitmqctl of this node only
    RABBITMQ_NODENAME: o.nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(o.port),
    RABBITMQ_DIST_PORT: String(o.distPort),
    ERL_EPMD_PORT: String(o.epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: join(o.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: o.logDir,
    RABBITMQ_CONFIG_FILE: join(o.dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(o.dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(o.dir, 'enabled_plugins'),
    RABBITMQ_ENABLED_PLUGINS: '',
    RABBITMQ_PID_FILE: join(o.dir, 'rabbitmq.pid'),
    RABBITMQ_CONF_ENV_FILE: join(o.dir, 'rabbitmq-env.conf'),
    RABBITMQ_LOGS: join(o.logDir, `${o.name}.log`),
  };
}

/**
 * Starts (or restarts, on the same dir) a node. `name` names the processes and log files; the node name is
 * `<name>-<port>@localhost`. Returns `{ url, port, entry, epmd, options }`; `url` is `amqp://user:pw@127.0.0.1:port/`.
 */
export async function startRabbitMq(options) {
  const { dir, port, epmdPort, user, password, logDir, name = 'rabbitmq' } = options;
  const bins = ensureRabbitMqInstalled();
  const o = { ...options, name, nodeName: options.nodeName ?? `${name}-${port}@localhost` };
  mkdirSync(dir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  // The default user is created on the node's first boot only (with every permission on the default vhost).
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      `default_user = ${user}`,
      `default_pass = ${password}`,
      'default_vhost = /',
      'loopback_users = none',
      'log.console = false',
      'log.file.level = warning',
      'vm_memory_high_watermark.relative = 0.2',
      'disk_free_limit.absolute = 50MB',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'advanced.config'), '[].\n');
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const env = envOf(o);
  // Our own epmd on its own port (a system epmd on 4369 is never touched), stopped together with the node.
  const epmd = start(`${name}-epmd`, bins.epmd, ['-port', String(epmdPort), '-address', '127.0.0.1'], {
    env,
    logFile: join(logDir, `${name}-epmd.log`),
  });
  const entry = start(name, bins.server, [], { env, cwd: dir, logFile: join(logDir, `${name}.stdout.log`) });
  entry.epmd = epmd;
  await waitFor(`RabbitMQ ${o.nodeName} on 127.0.0.1:${port} (log: ${join(logDir, `${name}.log`)})`, () => amqpAnswers(port), {
    entry,
    timeoutMs: 90_000,
    intervalMs: 500,
  });
  const url = `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/`;
  return { url, port, entry, options: o, ctl: (args) => ctl(bins, env, args) };
}

function ctl(bins, env, args) {
  return new Promise((resolve, reject) => {
    execFile(bins.ctl, ['-n', env.RABBITMQ_NODENAME, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`rabbitmqctl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

export async function stopRabbitMq(entry) {
  if (!entry) return;
  await stop(entry, { graceMs: 30_000 });
  if (entry.epmd) await stop(entry.epmd, { graceMs: 5_000 });
}
