// The `npm run chaos -- --ha` stack: the chaos stack (scripts/chaos/stack.mjs) on the real thing — a Temporal cluster of
// two nodes on PostgreSQL (scripts/lib/temporal-cluster.mjs), two API processes behind HAProxy (deploy/haproxy), the
// MariaDB servers, the Temporal nodes, PostgreSQL and the APIs supervised (procs.mjs supervise) — and its faults:
// SIGKILL a Temporal node, an API replica or a MariaDB server and let supervision bring it back (no help from the
// harness), restart PostgreSQL.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHaproxy } from '../lib/haproxy.mjs';
import { freePort, start, stop, supervise, waitFor } from '../lib/procs.mjs';
import { nodeHealthy, restartPostgres, startTemporalCluster, superviseCluster } from '../lib/temporal-cluster.mjs';
import { startMariaDb } from '../lib/mariadb.mjs';
import { ChaosStack } from './stack.mjs';

export const HA_FAULTS = ['temporal-node-kill', 'api-kill', 'mariadb-kill', 'postgres-restart'];

export class HaChaosStack extends ChaosStack {
  async startTemporalService() {
    this.cluster = await startTemporalCluster({ ephemeral: true, work: this.work, logDir: this.logDir, namespace: 'default', searchAttributes: this.temporalOpts.searchAttributes, headless: true });
    this.supervised = [...(this.supervised ?? []), ...superviseCluster(this.cluster)];
    // HAProxy first (Temporal on its own port, the API port with the replicas' ports): every worker connects through it.
    this.temporalAddress = `127.0.0.1:${await freePort()}`;
    this.haApiPort = await freePort();
    this.apis = [1, 2].map((i) => ({ name: `api-${i}`, port: 0, entry: null }));
    for (const a of this.apis) a.port = await freePort();
    this.haproxy = await startHaproxy({
      root: this.root,
      logDir: this.logDir,
      api: { bind: `127.0.0.1:${this.haApiPort}`, servers: this.apis.map((a) => `127.0.0.1:${a.port}`) },
      temporal: { bind: this.temporalAddress, servers: this.cluster.addresses },
    });
    return { ...this.cluster, address: this.temporalAddress, entry: { child: { once() {} } } };
  }

  async startServers() {
    const servers = await super.startServers();
    for (const server of servers) {
      const launch = async () => {
        server.started = await startMariaDb(server.options);
        server.entry = server.started.entry;
        this.watch(server.entry, `mariadb-${server.name}`);
        return server.entry;
      };
      this.supervised = [...(this.supervised ?? []), supervise(`mariadb-${server.name}`, launch, { current: () => server.entry })];
    }
    return servers;
  }

  /** Two API replicas behind the HAProxy startTemporalService() started (its API port, not `apiPort`), supervised. */
  async startApi() {
    const launchApi = (replica) => async () => {
      replica.entry = start(replica.name, process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
        cwd: this.root,
        env: { ...this.baseEnv(), ...this.apiEnv, API_HOST: '127.0.0.1', API_PORT: String(replica.port), LOG_LEVEL: 'warn', SHUTDOWN_DRAIN_DELAY_MS: '4000' },
        logFile: join(this.logDir, `${replica.name}.log`),
      });
      this.watch(replica.entry, replica.name);
      await waitFor(`${replica.name} /readyz`, async () => (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).ok, { entry: replica.entry, timeoutMs: 120_000 });
      return replica.entry;
    };
    for (const a of this.apis) a.launch = launchApi(a);
    await Promise.all(this.apis.map((a) => a.launch()));
    for (const a of this.apis) this.supervised.push(supervise(a.name, a.launch, { current: () => a.entry }));
    this.api = this.apis[0].entry;
    this.base = `http://127.0.0.1:${this.haApiPort}`;
    await waitFor('API /readyz through HAProxy', async () => (await fetch(`${this.base}/readyz`)).ok, { timeoutMs: 60_000 });
  }

  /** SIGKILLs `entry`'s process group, marked as a chaos kill (not a finding); returns when `back()` holds again. */
  async killAndAwait(entry, back, what) {
    entry.chaosKilled = true;
    const t = Date.now();
    await stop(entry, { signal: 'SIGKILL', graceMs: 5_000 });
    await waitFor(`${what} back under supervision`, back, { timeoutMs: 180_000, intervalMs: 500 });
    return { killed: entry.name, backSeconds: (Date.now() - t) / 1000 };
  }

  /** SIGKILL one Temporal node (alternating); supervision starts it again on its configuration. */
  async killTemporalNode() {
    this.nodeKills = (this.nodeKills ?? 0) + 1;
    const node = this.cluster.nodes[(this.nodeKills - 1) % this.cluster.nodes.length];
    const old = node.entry;
    const detail = await this.killAndAwait(old, async () => node.entry !== old && !node.entry.exited && (await nodeHealthy(node)), node.name);
    await sleep(2_000); // the ring settles (shards move back)
    return { ...detail, node: node.name };
  }

  /** SIGKILL one API replica (alternating); HAProxy sends everything to the other until supervision has it back. */
  async killApi() {
    this.apiKills = (this.apiKills ?? 0) + 1;
    const replica = this.apis[(this.apiKills - 1) % this.apis.length];
    const old = replica.entry;
    const back = async () => replica.entry !== old && !replica.entry.exited && (await fetch(`http://127.0.0.1:${replica.port}/readyz`).then((r) => r.ok, () => false));
    return { replica: replica.name, ...(await this.killAndAwait(old, back, replica.name)) };
  }

  /** SIGKILL one MariaDB server (`a` or `b`); supervision (not the harness) starts it again on its datadir. */
  async killMariaDb(name) {
    const server = this.servers.find((s) => s.name === name);
    if (!server) throw new Error(`no MariaDB server ${name}`);
    const old = server.entry;
    return { server: name, ...(await this.killAndAwait(old, () => server.entry !== old && !server.entry.exited, `mariadb-${name}`)) };
  }

  /** Fast-stop PostgreSQL (both Temporal nodes lose their database), keep it down `downMs`, start it again. */
  async restartPostgres(downMs) {
    const t = Date.now();
    await restartPostgres(this.cluster.postgres, { downMs });
    return { downSeconds: (Date.now() - t) / 1000 };
  }

  async stopAll() {
    this.closing = true;
    for (const h of this.supervised ?? []) h.stop(); // what stops now stays stopped
    await Promise.all([...(this.apis ?? []).map((a) => a.entry), ...this.workers].filter(Boolean).map((e) => stop(e, { graceMs: 15_000 })));
    if (this.haproxy) await stop(this.haproxy.entry);
    this.api = null;
    this.temporal = { entry: { exited: true } };
    await super.stopAll();
  }
}
