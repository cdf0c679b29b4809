// A real Temporal cluster for `--cluster` (dev, chaos, bench) and the cluster smoke: the Temporal server and
// temporal-sql-tool built from go.temporal.io/server, the Web UI server from github.com/temporalio/ui-server/v2 (both
// cached in ~/.cache/sagaflow/bin like the CLI), persistence and visibility on a project-owned PostgreSQL, two server
// nodes (frontend, history, matching and worker each) in one ring: membership through the database's
// cluster_membership table, every node on its own block of ports. The namespace is registered with its retention and
// the project's search attributes. Nothing fetched or built lands in the clone.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { log } from './log.mjs';
import { onCleanup, start, stop, supervise, waitFor } from './procs.mjs';
import { startPostgres, stopPostgres } from './postgres.mjs';
import { cacheDir, findTemporalCli, INSTALL_HELP } from './temporal-cli.mjs';
import { DYNAMIC_CONFIG } from './temporal-server.mjs';

export const SERVER_MODULE = 'go.temporal.io/server';
export const SERVER_VERSION = 'v1.32.2';
export const UI_MODULE = 'github.com/temporalio/ui-server/v2';
export const UI_VERSION = 'v2.42.1';
const HISTORY_SHARDS = 4;
/** Ports of one node, as offsets in its block: frontend gRPC first (the address clients use). */
const PORT_OFFSETS = { frontend: 0, frontendHttp: 1, history: 2, matching: 3, worker: 4, frontendRing: 5, historyRing: 6, matchingRing: 7, workerRing: 8 };
export const NODE_PORT_BLOCK = 10;
const run = promisify(execFile);

/** A cached binary of the cluster: temporal-server, temporal-sql-tool, tdbg (admin: membership), temporal-ui-server. */
export const binary = (name) => join(cacheDir(), 'bin', name);
const runs = (path) => existsSync(path) && spawnSync(path, ['--help'], { stdio: 'ignore' }).status === 0;

/** `go install`s `pkgs` (module@version each) into a private GOBIN, then moves each binary to its cached name. */
function goInstall(pkgs, names) {
  const goPath = join(cacheDir(), 'go');
  const gobin = join(cacheDir(), `gobin-${names[0]}`);
  mkdirSync(gobin, { recursive: true });
  // GOTOOLCHAIN=auto: the server's go.mod asks for a newer Go than Debian's; the go command fetches it via the proxy.
  const env = { ...process.env, GOPATH: goPath, GOCACHE: join(cacheDir(), 'go-build'), GOBIN: gobin, GOTOOLCHAIN: 'auto', CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' };
  const r = spawnSync('go', ['install', ...pkgs], { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (r.status !== 0) throw new Error(`go install ${pkgs.join(' ')} failed (exit ${r.status})`);
  for (const [built, name] of names.slice(1)) renameSync(join(gobin, built), binary(name));
}

/**
 * The cluster's binaries, built on first use (several minutes with a cold Go cache; cached across clones and runs).
 * @returns {{ server: string, sqlTool: string, tdbg: string, ui: string, cli: string }}
 */
export function ensureClusterBinaries({ ui = true } = {}) {
  const cli = findTemporalCli();
  if (!cli) throw new Error(`no Temporal CLI available\n${INSTALL_HELP}`);
  mkdirSync(join(cacheDir(), 'bin'), { recursive: true });
  if (!['temporal-server', 'temporal-sql-tool', 'tdbg'].every((b) => runs(binary(b)))) {
    log.info(`building the Temporal server ${SERVER_VERSION}, temporal-sql-tool and tdbg with Go (first run only, several minutes)`);
    const tools = ['server', 'tools/sql', 'tools/tdbg'].map((cmd) => `${SERVER_MODULE}/cmd/${cmd}@${SERVER_VERSION}`);
    goInstall(tools, ['server', ['server', 'temporal-server'], ['sql', 'temporal-sql-tool'], ['tdbg', 'tdbg']]);
  }
  if (ui && !runs(binary('temporal-ui-server'))) {
    log.info(`building the Temporal Web UI server ${UI_VERSION} with Go (first run only)`);
    goInstall([`${UI_MODULE}/cmd/server@${UI_VERSION}`], ['ui', ['server', 'temporal-ui-server']]);
  }
  return { server: binary('temporal-server'), sqlTool: binary('temporal-sql-tool'), tdbg: binary('tdbg'), ui: binary('temporal-ui-server'), cli };
}

/** Creates (first run) and migrates (every run; a no-op when current) the persistence and visibility databases. */
async function setupSchemas(sqlTool, pg) {
  const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pg.port), '-u', pg.user, '--pw', pg.password];
  for (const [db, schema] of [['temporal', 'postgresql/v12/temporal'], ['temporal_visibility', 'postgresql/v12/visibility']]) {
    const exists = spawnSync(join(pg.bin, 'psql'), ['-h', '127.0.0.1', '-p', String(pg.port), '-U', pg.user, '-d', 'postgres', '-tAc', `SELECT 1 FROM pg_database WHERE datname = '${db}'`], {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: pg.password },
    });
    if (exists.status !== 0) throw new Error(`psql failed: ${exists.stderr.trim()}`);
    if (exists.stdout.trim() !== '1') {
      await run(sqlTool, [...base, '--db', db, 'create-database']);
      await run(sqlTool, [...base, '--db', db, 'setup-schema', '-v', '0.0']);
    }
    await run(sqlTool, [...base, '--db', db, 'update-schema', '--schema-name', schema]);
  }
}

/** The server configuration of node `index` (JSON is YAML): all four services, its own ports, the shared database. */
export function nodeConfig({ index, ports, pg, dynamicConfigFile, clusterAddress }) {
  const p = (k) => ports[index] + PORT_OFFSETS[k];
  const store = (databaseName, maxConns) => ({
    sql: { pluginName: 'postgres12', databaseName, connectAddr: `127.0.0.1:${pg.port}`, connectProtocol: 'tcp', user: pg.user, password: pg.password, maxConns, maxIdleConns: maxConns, maxConnLifetime: '1h' },
  });
  const svc = (grpc, ring, extra = {}) => ({ rpc: { grpcPort: p(grpc), membershipPort: p(ring), bindOnIP: '127.0.0.1', ...extra } });
  return {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: { default: store('temporal', 20), visibility: store('temporal_visibility', 5) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: svc('frontend', 'frontendRing', { httpPort: p('frontendHttp') }),
      history: svc('history', 'historyRing'),
      matching: svc('matching', 'matchingRing'),
      worker: svc('worker', 'workerRing'),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: clusterAddress } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    // The system worker (scheduler, batcher, namespace deletion) talks to its own node's frontend.
    publicClient: { hostPort: `127.0.0.1:${p('frontend')}` },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

function writeDynamicConfig(file) {
  const entries = Object.entries(DYNAMIC_CONFIG).map(([k, v]) => `${k}:\n  - value: ${JSON.stringify(v)}\n    constraints: {}\n`);
  writeFileSync(file, entries.join(''));
}

function healthy(cli, address) {
  return new Promise((resolve) => {
    execFile(cli, ['operator', 'cluster', 'health', '--address', address], { timeout: 5000 }, (err, stdout) => resolve(!err && /SERVING/.test(stdout)));
  });
}

async function assertFree(ports, variable) {
  const { portInUse } = await import('./procs.mjs');
  for (const p of ports) if (await portInUse(p)) throw new Error(`port ${p} (${variable}) is busy; stop what uses it or set ${variable}`);
}

/** True when `node`'s frontend answers SERVING. */
export const nodeHealthy = (node) => healthy(node.cli, node.address);

/** `size` consecutive free ports on 127.0.0.1, from a random start (tests: nothing fixed, parallel runs rarely collide). */
export async function freePortBlock(size, { avoid = [] } = {}) {
  const { portInUse } = await import('./procs.mjs');
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below 32768: the ring ports are stored in a smallint column (cluster_membership.rpc_port); above the usual
    // fixed ports and below Linux's ephemeral range (freePort() of the other services), so nothing collides.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const block = Array.from({ length: size }, (_, i) => base + i);
    if (block.some((p) => avoid.includes(p))) continue;
    const busy = await Promise.all(block.map((p) => portInUse(p)));
    if (!busy.some(Boolean)) return base;
  }
  throw new Error(`no block of ${size} free ports found`);
}

/** Starts (or restarts, same config) node `index`; resolves once its frontend answers. Updates `node.entry`. */
export async function startNode(node) {
  node.entry = start(node.name, node.bin, ['--config-file', node.configFile, '--allow-no-auth', 'start'], { logFile: node.logFile });
  try {
    await waitFor(`Temporal ${node.name} on ${node.address} (log: ${node.logFile})`, () => healthy(node.cli, node.address), { entry: node.entry, timeoutMs: 120_000 });
  } catch (err) {
    const tail = existsSync(node.logFile) ? readFileSync(node.logFile, 'utf8').trim().split('\n').slice(-3).join(' | ').slice(-1200) : '';
    throw new Error(`${err.message}${tail ? `; last log lines: ${tail}` : ''}`, { cause: err });
  }
  return node;
}

/** Stops node `node` (SIGTERM: it leaves the ring gracefully), keeps it down `downMs`, starts it again. */
export async function restartNode(node, { downMs = 0, signal = 'SIGTERM' } = {}) {
  node.entry.expectedExit = true;
  await stop(node.entry, { signal, graceMs: 30_000 });
  if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
  return startNode(node);
}

const cliRun = (cli, address, args) => run(cli, [...args, '--address', address], { timeout: 20_000 });

/** The namespace with its retention, then every project search attribute on it (both idempotent). */
async function registerNamespace(cli, address, { namespace, retention, searchAttributes }) {
  await waitFor(`namespace ${namespace}`, async () => {
    try {
      await cliRun(cli, address, ['operator', 'namespace', 'describe', '--namespace', namespace]);
    } catch {
      await cliRun(cli, address, ['operator', 'namespace', 'create', '--namespace', namespace, '--retention', retention]);
      return false; // registered: the next round sees it once the namespace cache has it
    }
    return true;
  }, { timeoutMs: 120_000, intervalMs: 2000 });
  await waitFor(`search attributes on ${namespace}`, async () => {
    const { stdout } = await cliRun(cli, address, ['operator', 'search-attribute', 'list', '--namespace', namespace, '--output', 'json']);
    const known = new Set(JSON.parse(stdout).map?.((a) => a.name) ?? Object.keys(JSON.parse(stdout).customAttributes ?? {}));
    const missing = Object.entries(searchAttributes).filter(([name]) => !known.has(name));
    for (const [name, type] of missing) {
      await cliRun(cli, address, ['operator', 'search-attribute', 'create', '--namespace', namespace, '--name', name, '--type', type]);
    }
    return missing.length === 0;
  }, { timeoutMs: 120_000, intervalMs: 2000 });
}

function startUi(bins, { work, logDir, port, address, namespace }) {
  const dir = join(work, 'temporal-ui');
  mkdirSync(join(dir, 'config'), { recursive: true });
  const config = {
    host: '127.0.0.1', port, temporalGrpcAddress: address, enableUi: true, defaultNamespace: namespace,
    publicPath: '', cors: { allowOrigins: [], cookieInsecure: true }, refreshInterval: '1m', notifyOnNewVersion: false,
  };
  writeFileSync(join(dir, 'config', 'base.yaml'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'config', 'sagaflow.yaml'), '{}\n');
  const entry = start('temporal-ui', bins.ui, ['--root', dir, '--config', 'config', '--env', 'sagaflow', 'start'], { logFile: join(logDir, 'temporal-ui.log') });
  return entry;
}

/**
 * PostgreSQL, the schemas, two Temporal nodes, the namespace and its search attributes, the Web UI server.
 * `dev`: ports from the environment (POSTGRES_PORT 5433, TEMPORAL_CLUSTER_PORT 7300: node n on the block
 * 7300 + 10·n, TEMPORAL_UI_PORT 8233), data in <work>/postgresql; `ephemeral` (tests): free ports, fsync off.
 * @returns {Promise<{ address: string, addresses: string[], uiUrl: string, cli: string, entry: object,
 *   nodes: object[], postgres: object, ui: object }>} `address` is node 1's frontend; `entry` node 1's process.
 */
export async function startTemporalCluster({ ephemeral, work, logDir, env = process.env, namespace, searchAttributes, nodeCount = 2, headless = false }) {
  const bins = ensureClusterBinaries({ ui: !headless });
  const pgPort = ephemeral ? await freePortBlock(1) : Number(env.POSTGRES_PORT ?? 5433);
  const pg = { port: pgPort, user: 'temporal', password: ephemeral ? 'temporal-test' : (env.POSTGRES_PASSWORD ?? 'temporal'), dataDir: join(work, 'postgresql') };
  if (!ephemeral) await assertFree([pgPort], 'POSTGRES_PORT');
  const postgres = { options: { dataDir: pg.dataDir, port: pg.port, user: pg.user, password: pg.password, durable: !ephemeral, logDir } };
  Object.assign(postgres, await startPostgres(postgres.options));
  onCleanup(() => stopPostgres(postgres.entry));
  pg.bin = postgres.bin;
  await setupSchemas(bins.sqlTool, pg);
  log.info(`temporal cluster: PostgreSQL on 127.0.0.1:${pg.port} (data in ${pg.dataDir}), schemas current`);

  const ports = [];
  for (let i = 0; i < nodeCount; i++) {
    const taken = [pgPort, ...ports.flatMap((b) => Array.from({ length: NODE_PORT_BLOCK }, (_, k) => b + k))];
    ports.push(ephemeral ? await freePortBlock(NODE_PORT_BLOCK, { avoid: taken }) : Number(env.TEMPORAL_CLUSTER_PORT ?? 7300) + NODE_PORT_BLOCK * i);
  }
  if (!ephemeral) await assertFree(ports.flatMap((base) => Object.values(PORT_OFFSETS).map((o) => base + o)), 'TEMPORAL_CLUSTER_PORT');
  const dir = join(work, 'temporal-cluster');
  mkdirSync(dir, { recursive: true });
  const dynamicConfigFile = join(dir, 'dynamic-config.yaml');
  writeDynamicConfig(dynamicConfigFile);
  const clusterAddress = `127.0.0.1:${ports[0]}`;
  const nodes = ports.map((base, index) => {
    const configFile = join(dir, `node-${index + 1}.yaml`);
    writeFileSync(configFile, JSON.stringify(nodeConfig({ index, ports, pg, dynamicConfigFile, clusterAddress }), null, 2));
    const name = `temporal-${index + 1}`;
    return { name, index, bin: bins.server, cli: bins.cli, configFile, address: `127.0.0.1:${base}`, ports: base, logFile: join(logDir, `${name}.log`), entry: null };
  });
  // Stopped before PostgreSQL (cleanup hooks run in reverse): a node losing its database mid-shutdown only logs.
  onCleanup(() => Promise.all(nodes.map((n) => n.entry && stop(n.entry, { graceMs: 20_000 }))));
  // One after the other: the first start of a cluster initialises its metadata in the database, which two nodes starting
  // at once would race for.
  for (const n of nodes) await startNode(n);
  const retention = env.TEMPORAL_RETENTION ?? '72h';
  await registerNamespace(bins.cli, nodes[0].address, { namespace, retention, searchAttributes });
  log.info(`temporal cluster: ${nodes.length} nodes (${nodes.map((n) => n.address).join(', ')}), namespace ${namespace} (retention ${retention})`);

  let ui = null;
  let uiUrl = null;
  if (!headless) {
    const uiPort = ephemeral ? await freePortBlock(1) : Number(env.TEMPORAL_UI_PORT ?? 8233);
    ui = { launch: () => (ui.entry = startUi(bins, { work: dir, logDir, port: uiPort, address: nodes[0].address, namespace })) };
    ui.launch();
    uiUrl = `http://127.0.0.1:${uiPort}`;
    await waitFor(`Temporal Web UI on ${uiUrl}`, async () => (await fetch(`${uiUrl}/api/v1/namespaces`)).ok, { entry: ui.entry, timeoutMs: 60_000 });
  }
  return {
    address: nodes[0].address, addresses: nodes.map((n) => n.address), uiUrl, cli: bins.cli, tdbg: bins.tdbg, nodes, postgres, ui, pg,
    get entry() {
      return nodes[0].entry;
    },
  };
}

/** Stops PostgreSQL (fast shutdown), keeps it down `downMs`, starts it again on the same datadir and port. */
export async function restartPostgres(postgres, { downMs = 0 } = {}) {
  postgres.entry.expectedExit = true;
  await stopPostgres(postgres.entry);
  if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
  Object.assign(postgres, await startPostgres(postgres.options));
  return postgres;
}

/**
 * Supervision of a cluster (procs.mjs supervise): PostgreSQL, each node and the Web UI server are started again, on
 * the same data, ports and configuration, when they die. Entries are replaced in place, so cleanup and the restart
 * helpers above keep working. Returns the handles.
 */
export function superviseCluster(temporal) {
  const { postgres, nodes, ui } = temporal;
  const handles = [
    supervise('postgresql', async () => Object.assign(postgres, await startPostgres(postgres.options)).entry, { current: () => postgres.entry }),
    ...nodes.map((node) => supervise(node.name, async () => (await startNode(node)).entry, { current: () => node.entry })),
  ];
  if (ui) handles.push(supervise('temporal-ui', async () => ui.launch(), { current: () => ui.entry }));
  return handles;
}
