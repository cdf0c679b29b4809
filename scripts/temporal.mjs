#!/usr/bin/env node
// `npm run temporal -- <args>`: the Temporal CLI against the configured server (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// default the `npm run dev` server), e.g. `npm run temporal -- workflow list --query 'TransferId="..."'`.
//
// `operator cluster describe` also shows the cluster's members: the CLI's own answer (GetClusterInfo) names the
// cluster, its version and its stores but no node, so the members of each service's ring are asked for through the
// admin API with tdbg (built beside the cluster's server, scripts/lib/temporal-cluster.mjs) — a table after the CLI's,
// or a `membership` key in its JSON (`-o json`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from './lib/log.mjs';
import { findTemporalCli, INSTALL_HELP } from './lib/temporal-cli.mjs';
import { binary } from './lib/temporal-cluster.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, '.env'))) process.loadEnvFile(join(root, '.env'));
const cli = findTemporalCli();
if (!cli) {
  log.error(INSTALL_HELP);
  process.exit(1);
}
const env = {
  ...process.env,
  TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? `127.0.0.1:${process.env.TEMPORAL_PORT ?? 7233}`,
  TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default',
};
const args = process.argv.slice(2);

/** Each service's ring: [{ role, members: ['host:port', …] }], or undefined when tdbg is missing or cannot tell. */
function membership(address) {
  const tdbg = binary('tdbg');
  if (!existsSync(tdbg)) return undefined;
  const r = spawnSync(tdbg, ['--address', address, 'membership', 'list-gossip'], { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) return undefined;
  try {
    return JSON.parse(r.stdout).map((ring) => ({ role: ring.role, members: ring.members.map((m) => m.identity).sort() }));
  } catch {
    return undefined;
  }
}

const describing = args[0] === 'operator' && args[1] === 'cluster' && args[2] === 'describe';
const json = args.some((a, i) => (a === '-o' || a === '--output') && args[i + 1] === 'json') || args.includes('--output=json');
if (!describing) process.exit(spawnSync(cli, args, { stdio: 'inherit', env }).status ?? 1);

const rings = membership(env.TEMPORAL_ADDRESS);
if (json) {
  const r = spawnSync(cli, args, { stdio: ['inherit', 'pipe', 'inherit'], env, encoding: 'utf8' });
  if (r.status !== 0 || !rings) {
    process.stdout.write(r.stdout);
    process.exit(r.status ?? 1);
  }
  process.stdout.write(`${JSON.stringify({ ...JSON.parse(r.stdout), membership: rings }, null, 2)}\n`);
  process.exit(0);
}
const r = spawnSync(cli, args, { stdio: 'inherit', env });
if (r.status === 0 && rings) {
  const width = Math.max(...rings.map((x) => x.role.length), 'Service'.length) + 2;
  const lines = rings.map((x) => `  ${x.role.padEnd(width)}${x.members.length}        ${x.members.join(', ')}`);
  process.stdout.write(`\n  ${'Service'.padEnd(width)}Members  Addresses\n${lines.join('\n')}\n`);
}
process.exit(r.status ?? 1);
