// The dtm-saga bench scenario's participant: one TypeScript service written with the participant kit (DTM's barrier
// and the Hono middleware) over a database of its own, with two branch routes — transfer-out and transfer-in, each
// one conditional UPDATE behind the barrier — and their compensations. Argument: JSON { port, serverUrl, database,
// accounts }: the database is created on serverUrl's server (any database URL of it).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Transaction } from 'sequelize';
import { createDtmBarrier, dtmBarrierDdl, dtmBranch, DtmFailure, type DtmBranchEnv } from '../../src/participant';
import { exec } from '../../src/platform/db/sql';
import { createSequelize } from '../../src/platform/db/sequelize';

const { port, serverUrl, database, accounts } = JSON.parse(process.argv[2]) as { port: number; serverUrl: string; database: string; accounts: number };

async function main() {
  const pool = { max: 64, min: 0, acquire: 30_000, idle: 10_000, evict: 1_000 };
  const admin = createSequelize(serverUrl, { ...pool, max: 1 });
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
  await admin.close();
  const db = createSequelize(Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString(), pool);
  await db.query(dtmBarrierDdl('barrier'));
  await db.query('CREATE TABLE IF NOT EXISTS accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)');
  await db.query('DELETE FROM accounts');
  for (let i = 0; i < accounts; i += 500) {
    const ids = Array.from({ length: Math.min(500, accounts - i) }, (_, k) => i + k);
    await db.query(`INSERT INTO accounts (id, balance) VALUES ${ids.map(() => '(?, 1000000000000)').join(', ')}`, { replacements: ids });
  }
  const barrier = createDtmBarrier(db, { table: 'barrier' });
  const move = (sign: 1 | -1) => async (c: Context<DtmBranchEnv>) => {
    const { account, amount } = await c.req.json<{ account: number; amount: number }>();
    return c.var.dtm.handle(async (t: Transaction) => {
      const sql = 'UPDATE accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0';
      if (!(await exec(db, sql, [sign * amount, account, sign * amount], t))) throw new DtmFailure('insufficient balance');
    });
  };
  const app = new Hono<DtmBranchEnv>();
  app.post('/transfer-out', dtmBranch(barrier), move(-1));
  app.post('/transfer-out-compensate', dtmBranch(barrier), move(1));
  app.post('/transfer-in', dtmBranch(barrier), move(1));
  app.post('/transfer-in-compensate', dtmBranch(barrier), move(-1));
  app.get('/ready', (c) => c.text('ok'));
  serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
