// Provisions the services sagaflow needs: its databases (on DATABASE_URL's server when it answers, else on two
// project-owned MariaDB servers, placed as scripts/lib/layout.mjs says) and a Temporal dev server. `dev` keeps state
// under .data/ and uses the configured ports; `test` is ephemeral: free ports, temporary datadirs, an in-memory Temporal.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from './log.mjs';
import { onCleanup, freePort, portInUse, stop, supervise } from './procs.mjs';
import { DATABASE_PREFIX, DATABASES, databaseEnvFor, databaseName, SERVERS, withDatabase } from './layout.mjs';
import { ensureMariaDbInstalled, removeDataDir, startMariaDb, stopMariaDb } from './mariadb.mjs';
import { startRabbitMq, stopRabbitMq } from './rabbitmq.mjs';
import { startTemporalCluster, superviseCluster } from './temporal-cluster.mjs';
import { startTemporal } from './temporal-server.mjs';

async function databaseAnswers(url) {
  if (!url) return false;
  try {
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
    await conn.query('SELECT 1');
    await conn.end();
    return true;
  } catch (err) {
    log.warn(`DATABASE_URL does not answer (${err.code ?? err.message}); starting the project-owned MariaDB servers instead`);
    return false;
  }
}

/**
 * Fresh databases for every role inside an existing server (tests against DATABASE_URL), under a prefix unique to this
 * run so parallel runs and leftovers never collide; dropped at cleanup. The prefix starts with `sagaflow_`, so an app
 * user granted `sagaflow\_%` (as mariadb.mjs does) may create them.
 */
async function freshDatabasesIn(url) {
  const mysql = await import('mysql2/promise');
  const prefix = `${DATABASE_PREFIX}_test_${process.pid}_${Date.now().toString(36)}`;
  const names = DATABASES.map((db) => databaseName(db.role, prefix));
  // Registered first: a failure halfway still drops what was created.
  onCleanup(async () => {
    const c = await mysql.createConnection({ uri: url });
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.end();
  });
  const conn = await mysql.createConnection({ uri: url });
  for (const name of names) await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await conn.end();
  return prefix;
}

/**
 * Starts the project-owned servers A and B in parallel, each with its own datadir (<work>/mariadb-<name>), port, socket
 * (inside the datadir) and log files (<logDir>/mariadb-<name>.log), the same app user and password on both.
 */
async function startServers({ ephemeral, work, logDir, env }) {
  // Once, before the parallel starts: a missing MariaDB is installed by apt-get, which must not run twice at once.
  ensureMariaDbInstalled();
  const planned = [];
  for (const s of SERVERS) {
    const port = ephemeral ? await freePort() : Number(env[s.portVar] ?? s.defaultPort);
    if (!ephemeral && (await portInUse(port))) throw new Error(`port ${port} (${s.portVar}) is busy; stop what uses it or set ${s.portVar}`);
    const options = {
      name: `mariadb-${s.name}`,
      dataDir: join(work, `mariadb-${s.name}`),
      port,
      database: DATABASE_PREFIX, // the grant base: the app user may use `sagaflow` and `sagaflow\_%`
      databases: DATABASES.filter((db) => db.server === s.name).map((db) => databaseName(db.role)),
      user: 'sagaflow',
      password: ephemeral ? 'sagaflow-test' : (env.MARIADB_PASSWORD ?? 'sagaflow'),
      durable: !ephemeral,
      logDir,
    };
    planned.push({ name: s.name, port, dataDir: options.dataDir, databases: options.databases, options });
  }
  const results = await Promise.allSettled(planned.map((p) => startMariaDb(p.options)));
  const servers = [];
  results.forEach((r, i) => {
    if (r.status !== 'fulfilled') return;
    const server = { ...planned[i], url: r.value.serverUrl, entry: r.value.entry, started: r.value };
    // Reads server.entry when it runs, so it stops the current process after a restartServer().
    onCleanup(() => stopMariaDb(server.entry));
    servers.push(server);
  });
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason; // the one that did start is stopped by cleanup()
  return servers;
}

/**
 * Stops one project-owned server (an entry of provision().servers), keeps it down `downMs`, and starts it again on
 * the same datadir, port and password. Updates `server.entry` (and `server.started`) in place.
 */
export async function restartServer(server, { downMs = 0 } = {}) {
  if (!server.options) throw new Error(`server ${server.name} is not project-owned (DATABASE_URL); it cannot be restarted here`);
  server.entry.expectedExit = true;
  await stopMariaDb(server.entry);
  if (downMs > 0) await sleep(downMs);
  server.started = await startMariaDb(server.options);
  server.entry = server.started.entry;
  return server;
}

/**
 * The project-owned RabbitMQ node (scripts/lib/rabbitmq.mjs): `dev` on RABBITMQ_PORT / RABBITMQ_DIST_PORT /
 * RABBITMQ_EPMD_PORT (5673 / 25673 / 4371) with its data in .data/rabbitmq; `test` on free ports in the run's temporary
 * directory. BROKER_URL, when it answers, is used instead (nothing started).
 */
export async function startBroker({ ephemeral, work, logDir, env }) {
  if (env.BROKER_URL && !ephemeral) {
    const u = new URL(env.BROKER_URL);
    if (await brokerAnswers(u.hostname, Number(u.port || 5672))) return { url: env.BROKER_URL, external: true };
    log.info(`BROKER_URL (${u.hostname}:${u.port || 5672}) does not answer; starting the project-owned RabbitMQ node instead`);
  }
  const ports = ephemeral
    ? { port: await freePort(), distPort: await freePort(), epmdPort: await freePort() }
    : { port: Number(env.RABBITMQ_PORT ?? 5673), distPort: Number(env.RABBITMQ_DIST_PORT ?? 25673), epmdPort: Number(env.RABBITMQ_EPMD_PORT ?? 4371) };
  if (!ephemeral) {
    for (const [name, p] of [['RABBITMQ_PORT', ports.port], ['RABBITMQ_DIST_PORT', ports.distPort], ['RABBITMQ_EPMD_PORT', ports.epmdPort]]) {
      if (await portInUse(p)) throw new Error(`port ${p} (${name}) is busy; stop what uses it or set ${name}`);
    }
  }
  const options = {
    name: 'rabbitmq',
    dir: join(work, 'rabbitmq'),
    logDir,
    ...ports,
    user: 'sagaflow',
    password: ephemeral ? 'sagaflow-test' : (env.RABBITMQ_PASSWORD ?? 'sagaflow'),
  };
  const broker = { options, ...(await startRabbitMq(options)) };
  // Reads broker.entry when it runs, so it stops the current process after a restartBroker().
  onCleanup(() => stopRabbitMq(broker.entry));
  log.info(`broker: RabbitMQ on 127.0.0.1:${broker.port} (node ${broker.options.nodeName}; data in ${options.dir})`);
  return broker;
}

function brokerAnswers(host, port) {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => (s.destroy(), resolve(true)));
    s.setTimeout(2000, () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });
}

/** Stops the project-owned broker, keeps it down `downMs`, starts it again on the same dir and ports (in place). */
export async function restartBroker(broker, { downMs = 0 } = {}) {
  if (broker.external) throw new Error('the broker is BROKER_URL\'s; it cannot be restarted here');
  broker.entry.expectedExit = true;
  await stopRabbitMq(broker.entry);
  if (downMs > 0) await sleep(downMs);
  Object.assign(broker, await startRabbitMq(broker.options));
  return broker;
}

/**
 * Supervises what provision() started (procs.mjs supervise): each project-owned MariaDB server, the project-owned
 * RabbitMQ node and the Temporal dev server is started again, on the same data, ports and passwords, when it dies.
 * Entries are updated in place (server.entry, broker.entry, temporal.entry), so cleanup and restartServer() keep
 * working. Returns the supervised handles.
 */
export function superviseServices(stack) {
  const handles = [];
  for (const server of stack.servers.filter((s) => s.options)) {
    const launch = async () => {
      server.started = await startMariaDb(server.options);
      server.entry = server.started.entry;
      return server.entry;
    };
    handles.push(supervise(`mariadb-${server.name}`, launch, { current: () => server.entry }));
  }
  const { broker, temporal } = stack;
  if (!broker.external) {
    const launch = async () => {
      if (broker.entry?.epmd) await stop(broker.entry.epmd, { graceMs: 5_000 }); // its epmd outlives a crashed node
      Object.assign(broker, await startRabbitMq(broker.options));
      return broker.entry;
    };
    handles.push(supervise('rabbitmq', launch, { current: () => broker.entry }));
  }
  if (temporal.nodes) return [...handles, ...superviseCluster(temporal)];
  const launchTemporal = async () => {
    Object.assign(temporal, await startTemporal(temporal.options));
    return temporal.entry;
  };
  handles.push(supervise('temporal', launchTemporal, { current: () => temporal.entry }));
  return handles;
}

/**
 * The payload encryption keys (PAYLOAD_KEYS, `id:base64key`): the caller's when set; for `dev` the one generated into
 * .data/payload-keys on first run (kept, so histories written before a restart still decrypt); for `test` a fresh one.
 */
export function payloadKeys({ ephemeral, work, env }) {
  if (env.PAYLOAD_KEYS) return env.PAYLOAD_KEYS;
  const fresh = () => `${ephemeral ? 'test' : 'dev'}-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}:${randomBytes(32).toString('base64')}`;
  if (ephemeral) return fresh();
  const file = join(work, 'payload-keys');
  if (!existsSync(file)) {
    mkdirSync(work, { recursive: true });
    writeFileSync(file, `${fresh()}\n`, { mode: 0o600 });
    log.info(`payload encryption: a key was generated into ${file} (put a new key first in it to rotate; keep the old ones)`);
  }
  return readFileSync(file, 'utf8').split(/[\n,]/).map((s) => s.trim()).filter(Boolean).join(',');
}

/**
 * @returns {Promise<{
 *   payloadEnv: { PAYLOAD_KEYS: string, CODEC_CORS_ORIGIN?: string }, codec: { port: number, endpoint: string },
 *   brokerEnv: { BROKER_URL: string }, broker: object,
 *   databaseEnv: { LEDGER_DATABASE_URLS: string, INVENTORY_DATABASE_URL: string, ORDERS_DATABASE_URL: string, LOYALTY_DATABASE_URL: string, API_DATABASE_URL: string },
 *   servers: Array<{ name: 'a'|'b', url: string, port: number, entry: object|null, dataDir: string|null, options: object|null,
 *     databases: string[], started?: object, external?: true }>,
 *   temporal: object, work: string, logDir: string,
 *   databaseUrl: string, mariadb: object|undefined,
 * }>} `servers[].url` is the server's URL without a database (`mysql://user:pw@127.0.0.1:port/`). `databaseUrl`
 *   (server A's orders database) and `mariadb` (server A's startMariaDb result) are legacy, for callers from the
 *   one-database days (bench/run.mjs); new code uses `databaseEnv` and `servers`.
 */
/** `temporalStore`: 'file' persists an ephemeral stack's Temporal to a SQLite file in its work dir (the bench's durable
 * figures); a dev stack always persists, a test stack defaults to memory. */
export async function provision({ mode, root, searchAttributes, env = process.env, temporalStore, cluster = env.SAGAFLOW_TEMPORAL === 'cluster' }) {
  const ephemeral = mode === 'test';
  // SAGAFLOW_DATA_DIR: a dev stack whose state lives elsewhere than .data/ (the self-healing e2e test starts one).
  const work = ephemeral ? mkdtempSync(join(tmpdir(), 'sagaflow-test-')) : resolve(root, env.SAGAFLOW_DATA_DIR || '.data');
  const logDir = join(work, 'logs');
  if (ephemeral) {
    chmodSync(work, 0o755); // the mysql system user must reach its datadirs inside
    onCleanup(() => removeDataDir(work));
  }

  let databaseEnv;
  let servers;
  if (await databaseAnswers(env.DATABASE_URL)) {
    // One server holds all six databases (a small install, or an external server).
    const prefix = ephemeral ? await freshDatabasesIn(env.DATABASE_URL) : DATABASE_PREFIX;
    databaseEnv = databaseEnvFor(() => env.DATABASE_URL, prefix);
    const u = new URL(env.DATABASE_URL);
    servers = [
      {
        name: 'a',
        url: withDatabase(env.DATABASE_URL),
        port: Number(u.port || 3306),
        entry: null,
        dataDir: null,
        options: null,
        databases: DATABASES.map((db) => databaseName(db.role, prefix)),
        external: true,
      },
    ];
    log.info(`database: all databases on DATABASE_URL's server${ephemeral ? ` (fresh ones, prefix ${prefix})` : ''}`);
  } else {
    if (!ephemeral && existsSync(join(work, 'mariadb'))) {
      log.warn(`${join(work, 'mariadb')} (the former single database server) is no longer used; delete it when you no longer need its data`);
    }
    servers = await startServers({ ephemeral, work, logDir, env });
    const byName = Object.fromEntries(servers.map((s) => [s.name, s]));
    databaseEnv = databaseEnvFor((name) => byName[name].url);
    for (const s of servers) log.info(`database: MariaDB ${s.name} on 127.0.0.1:${s.port} (${s.databases.join(', ')}; data in ${s.dataDir})`);
  }

  const broker = await startBroker({ ephemeral, work, logDir, env });
  const brokerEnv = { BROKER_URL: broker.url };

  // The API's codec endpoints, which the Web UI calls: the dev API's port, or (tests) a port the browser test serves on.
  const codecPort = ephemeral ? await freePort() : Number(env.API_PORT ?? 3000);
  const codec = { port: codecPort, endpoint: `http://127.0.0.1:${codecPort}/codec` };
  const temporal = cluster
    ? await startTemporalCluster({ ephemeral, work, logDir, env, namespace: env.TEMPORAL_NAMESPACE ?? 'default', searchAttributes })
    : await startDevServer({ ephemeral, work, logDir, env, searchAttributes, codec, temporalStore });
  const payloadEnv = { PAYLOAD_KEYS: payloadKeys({ ephemeral, work, env }), ...(temporal.uiUrl ? { CODEC_CORS_ORIGIN: temporal.uiUrl } : {}) };
  return {
    payloadEnv,
    codec,
    databaseEnv,
    brokerEnv,
    broker,
    servers,
    temporal,
    work,
    logDir,
    databaseUrl: databaseEnv.ORDERS_DATABASE_URL, // legacy
    mariadb: servers[0]?.started, // legacy
  };
}

/** The Temporal dev server (one process, SQLite in .data/ or in memory), the default outside `--cluster`. */
async function startDevServer({ ephemeral, work, logDir, env, searchAttributes, codec, temporalStore }) {
  const tPort = ephemeral ? await freePort() : Number(env.TEMPORAL_PORT ?? 7233);
  const uiPort = ephemeral ? await freePort() : Number(env.TEMPORAL_UI_PORT ?? 8233);
  if (!ephemeral) {
    for (const [name, p] of [['TEMPORAL_PORT', tPort], ['TEMPORAL_UI_PORT', uiPort]]) {
      if (await portInUse(p)) throw new Error(`port ${p} (${name}) is busy; stop what uses it or set ${name}`);
    }
  }
  const temporal = await startTemporal({
    port: tPort,
    uiPort,
    codecEndpoint: codec.endpoint,
    dbFile: ephemeral && temporalStore !== 'file' ? undefined : join(work, 'temporal.sqlite'),
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    searchAttributes,
    logDir,
  });
  log.info(`temporal: dev server on ${temporal.address}, Web UI ${temporal.uiUrl}`);
  return temporal;
}
