#!/usr/bin/env node
// `npm run example:gin-gorm`: the Go services of examples/gin-gorm take part in sagaflow's transactions through DTM's
// protocol, end to end against the dev stack (`npm run dev` running): builds the Go code with the machine's Go, creates
// the two services' databases on the dev stack's MariaDB (sagaflow_example_srv_a, _srv_b), starts srv-a and srv-b on
// free loopback ports, runs the submitter (a saga, a failing saga, a TCC, a 2-phase message through sagaflow), checks
// the balances in both databases, and stops everything it started.
// Where: DTM_SERVER (default: DTM's own listener http://127.0.0.1:${DTM_PORT:-36789}/api/dtmsvr, else the API's
// http://127.0.0.1:${API_PORT:-3000}/api/dtmsvr, whichever answers); EXAMPLE_DATABASE_URL (default the dev stack's
// server A: mysql://sagaflow:${MARIADB_PASSWORD:-sagaflow}@127.0.0.1:${MARIADB_PORT:-3307}/).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { buildGinGorm, goEnv } from './lib/go.mjs';
import { log } from './lib/log.mjs';
import { cleanup, freePort, start, stopOnSignals, waitFor } from './lib/procs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, '.env'))) process.loadEnvFile(join(root, '.env'));
stopOnSignals();

const env = process.env;
const candidates = env.DTM_SERVER
  ? [env.DTM_SERVER]
  : [`http://127.0.0.1:${env.DTM_PORT ?? 36789}/api/dtmsvr`, `http://127.0.0.1:${env.API_PORT ?? 3000}/api/dtmsvr`];
const serverUrl = env.EXAMPLE_DATABASE_URL ?? `mysql://sagaflow:${encodeURIComponent(env.MARIADB_PASSWORD ?? 'sagaflow')}@127.0.0.1:${env.MARIADB_PORT ?? 3307}/`;
const databases = { a: 'sagaflow_example_srv_a', b: 'sagaflow_example_srv_b' };
const dsn = (db) => Object.assign(new URL(serverUrl), { pathname: `/${db}` }).toString();

let code = 1;
try {
  const dtmServer = await firstAnswering(candidates);
  if (!dtmServer) throw new Error(`no DTM-protocol coordinator answers at ${candidates.join(' or ')}: start the dev stack (npm run dev) or set DTM_SERVER`);

  log.info('building examples/gin-gorm (the first build downloads modules and takes minutes)');
  const bin = await buildGinGorm();

  const conn = await mysql.createConnection(serverUrl);
  for (const db of Object.values(databases)) await conn.query(`CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4`);
  await conn.end();

  const [portA, portB] = [await freePort(), await freePort()];
  const logDir = join(root, '.data', 'logs');
  const common = { ...goEnv(), DTM_SERVER: dtmServer };
  log.info(`coordinator: ${dtmServer}`);
  const srvA = start('srv-a', bin.srvA, [], { logFile: join(logDir, 'srv-a.log'), env: { ...common, SRV_A_DSN: dsn(databases.a), SRV_A_ADDR: `127.0.0.1:${portA}`, PEER_URL: `http://127.0.0.1:${portB}` } });
  const srvB = start('srv-b', bin.srvB, [], { logFile: join(logDir, 'srv-b.log'), env: { ...common, SRV_B_DSN: dsn(databases.b), SRV_B_ADDR: `127.0.0.1:${portB}` } });
  for (const [entry, port] of [[srvA, portA], [srvB, portB]]) {
    await waitFor(`${entry.name} on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/api/balance/0`)).status === 404, { entry, timeoutMs: 60_000 });
  }

  const output = await run(bin.submit, { ...common, SRV_A_URL: `http://127.0.0.1:${portA}`, SRV_B_URL: `http://127.0.0.1:${portB}` });
  const result = JSON.parse(output.split('\n').find((l) => l.startsWith('RESULT '))?.slice(7) ?? 'null');
  if (!result) throw new Error('the submitter printed no RESULT line');
  code = (await balancesMatch(result)) ? 0 : 1;
} catch (err) {
  log.error(err.message);
} finally {
  await cleanup();
}
process.exit(code);

/** The first coordinator URL whose newGid answers with a gid. */
async function firstAnswering(urls) {
  for (const url of urls) {
    const body = await fetch(`${url}/newGid`).then((r) => (r.ok ? r.json() : undefined)).catch(() => undefined);
    if (body?.gid) return url;
  }
  return undefined;
}

/** Runs a program, its output shown as it comes; resolves with its stdout, rejects when it fails. */
function run(file, extraEnv) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env: { ...goEnv(), ...extraEnv }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.on('exit', (c) => (c === 0 ? resolve(out) : reject(new Error(`${file} exited ${c}`))));
  });
}

/** The balances as each service's own database holds them, against what the submitter's transactions should leave. */
async function balancesMatch(result) {
  const read = async (db) => {
    const conn = await mysql.createConnection(dsn(db));
    const [rows] = await conn.query('SELECT balance, trading_balance FROM accounts WHERE user_id = ?', [result.user]);
    await conn.end();
    return rows[0];
  };
  const [a, b] = [await read(databases.a), await read(databases.b)];
  const ok = a.balance === result.expected_a && b.balance === result.expected_b && a.trading_balance === 0 && b.trading_balance === 0;
  (ok ? log.info : log.error)(`databases: srv-a ${a.balance}, srv-b ${b.balance} (want ${result.expected_a}, ${result.expected_b}): ${ok ? 'ok' : 'MISMATCH'}`);
  return ok;
}
