// A MariaDB server of a test file's own, holding both ledger shards as two databases: for tests that restart the
// server, or read its server-wide counters, without disturbing (or being disturbed by) the other test files.
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateStores } from '../../src/migrate';
import { createFlowsEnv, uid, type FlowsEnv } from './env';

const mariadbModule = '../../scripts/lib/mariadb.mjs';

interface Server {
  entry: unknown;
  serverUrl: string;
}
interface MariaDb {
  startMariaDb: (o: object) => Promise<Server>;
  stopMariaDb: (e: unknown) => Promise<void>;
}

export interface OwnLedgerServer {
  ctx: FlowsEnv;
  /** Stops the server and starts it again on the same data and port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts the server, points the ledger's two shards at it (`<tag>_ledger_0`, `<tag>_ledger_1`) and migrates them. */
export async function ownLedgerServer(tag: string): Promise<OwnLedgerServer> {
  const mariadb = (await import(mariadbModule)) as MariaDb;
  const work = join(process.env.SAGAFLOW_TEST_WORKDIR ?? tmpdir(), uid(`${tag}-`));
  const options = {
    name: `mariadb-${tag}`,
    dataDir: join(work, 'data'),
    port: await freePort(),
    database: 'sagaflow',
    databases: [`sagaflow_${tag}_ledger_0`, `sagaflow_${tag}_ledger_1`],
    user: 'sagaflow',
    password: 'sagaflow-test',
    durable: false,
    logDir: join(work, 'logs'),
  };
  let server = await mariadb.startMariaDb(options);
  const urls = options.databases.map((d) => `${server.serverUrl}${d}`).join(',');
  const ctx = await createFlowsEnv({ LEDGER_DATABASE_URLS: urls });
  await migrateStores(ctx.config, 'up', ctx.stores.of('ledger'));
  return {
    ctx,
    async restart() {
      await mariadb.stopMariaDb(server.entry);
      server = await mariadb.startMariaDb(options);
    },
    async close() {
      await ctx.close();
      await mariadb.stopMariaDb(server.entry);
    },
  };
}
