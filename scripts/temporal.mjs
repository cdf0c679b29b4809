#!/usr/bin/env node
// `npm run temporal -- <args>`: the Temporal CLI against the configured server (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// default the `npm run dev` server), e.g. `npm run temporal -- workflow list --query 'TransferId="..."'`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from './lib/log.mjs';
import { findTemporalCli, INSTALL_HELP } from './lib/temporal-cli.mjs';

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
const r = spawnSync(cli, process.argv.slice(2), { stdio: 'inherit', env });
process.exit(r.status ?? 1);
