// A database of its own for a participant test, beside the suite's orders database on the same server (its name starts
// with the orders database's, so the app user's grant covers it), holding DTM's barrier table and a probe table.
import type { Sequelize } from 'sequelize';
import { loadConfig } from '../../src/config';
import { createSequelize } from '../../src/platform/db/sequelize';
import { dtmBarrierDdl } from '../../src/participant';

export interface ParticipantDb {
  db: Sequelize;
  name: string;
  /** `<database>.barrier`: DTM's table, named the way DTM's default `dtm_barrier.barrier` is. */
  table: string;
  effects(gid: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function createParticipantDb(suffix: string): Promise<ParticipantDb> {
  const config = loadConfig();
  const url = new URL(config.db.urls.orders);
  const name = `${url.pathname.slice(1)}_${suffix}_${process.pid}`;
  const admin = createSequelize(url.toString(), { ...config.db.pool, max: 1 });
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.close();
  url.pathname = `/${name}`;
  const db = createSequelize(url.toString(), config.db.pool);
  const table = `${name}.barrier`;
  await db.query(dtmBarrierDdl(table));
  await db.query('CREATE TABLE effects (id BIGINT AUTO_INCREMENT PRIMARY KEY, gid VARCHAR(128) NOT NULL, what VARCHAR(64) NOT NULL)');
  return {
    db,
    name,
    table,
    async effects(gid) {
      const [rows] = await db.query('SELECT what FROM effects WHERE gid = ? ORDER BY id', { replacements: [gid] });
      return (rows as Array<{ what: string }>).map((r) => r.what);
    },
    async close() {
      await db.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await db.close();
    },
  };
}
