// Provisions the services sagaflow needs: a MariaDB (DATABASE_URL when it answers, else a project-owned instance)
// and a Temporal dev server. `dev` keeps state under .data/ and uses the configured ports; `test` is ephemeral: free
// ports, a temporary datadir, an in-memory Temporal.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from './log.mjs';
import { onCleanup, freePort, portInUse } from './procs.mjs';
import { removeDataDir, startMariaDb, stopMariaDb } from './mariadb.mjs';
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
    log.warn(`DATABASE_URL does not answer (${err.code ?? err.message}); starting a project-owned MariaDB instead`);
    return false;
  }
}

/** A fresh database inside an existing server (tests against DATABASE_URL), dropped at cleanup. */
async function freshDatabaseIn(url) {
  const mysql = await import('mysql2/promise');
  const u = new URL(url);
  const name = `sagaflow_test_${process.pid}_${Date.now().toString(36)}`;
  const conn = await mysql.createConnection({ uri: url });
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await conn.end();
  onCleanup(async () => {
    const c = await mysql.createConnection({ uri: url });
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.end();
  });
  u.pathname = `/${name}`;
  return u.toString();
}

export async function provision({ mode, root, searchAttributes, env = process.env }) {
  const ephemeral = mode === 'test';
  const work = ephemeral ? mkdtempSync(join(tmpdir(), 'sagaflow-test-')) : join(root, '.data');
  const logDir = join(work, 'logs');
  if (ephemeral) {
    chmodSync(work, 0o755); // the mysql system user must reach its datadir inside
    onCleanup(() => removeDataDir(work));
  }

  let databaseUrl;
  let mariadb;
  if (await databaseAnswers(env.DATABASE_URL)) {
    databaseUrl = ephemeral ? await freshDatabaseIn(env.DATABASE_URL) : env.DATABASE_URL;
    log.info(`database: using DATABASE_URL${ephemeral ? ' (a fresh database in it)' : ''}`);
  } else {
    const port = ephemeral ? await freePort() : Number(env.MARIADB_PORT ?? 3307);
    if (!ephemeral && (await portInUse(port))) throw new Error(`port ${port} (MARIADB_PORT) is busy; stop what uses it or set MARIADB_PORT`);
    mariadb = await startMariaDb({
      dataDir: join(work, 'mariadb'),
      port,
      database: 'sagaflow',
      user: 'sagaflow',
      password: ephemeral ? 'sagaflow-test' : (env.MARIADB_PASSWORD ?? 'sagaflow'),
      durable: !ephemeral,
      logDir,
    });
    onCleanup(() => stopMariaDb(mariadb.entry));
    databaseUrl = mariadb.url;
    log.info(`database: MariaDB on 127.0.0.1:${port} (data in ${join(work, 'mariadb')})`);
  }

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
    dbFile: ephemeral ? undefined : join(work, 'temporal.sqlite'),
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    searchAttributes,
    logDir,
  });
  log.info(`temporal: dev server on ${temporal.address}, Web UI ${temporal.uiUrl}`);
  return { databaseUrl, mariadb, temporal, work, logDir };
}
