// End to end: a TypeScript service written with the participant kit (src/participant: DTM's barrier and the Hono
// middleware, a few lines per route) is a branch of sagaflow's DTM-protocol coordinator, called over HTTP on loopback;
// judged by its own database (balances and DTM's barrier rows).
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import type { Transaction } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../../src/platform/db/sql';
import { createDtmBarrier, dtmBranch, DtmFailure, type DtmBranchEnv } from '../../src/participant';
import { createDtmEnv, dtmCall, type DtmEnv } from '../dtm/coordinator';
import { createParticipantDb, type ParticipantDb } from './dtm-db';

describe('a participant-kit service under the DTM-protocol coordinator', () => {
  let env: DtmEnv;
  let pdb: ParticipantDb;
  let server: ServerType;
  let base: string;

  beforeAll(async () => {
    env = await createDtmEnv();
    pdb = await createParticipantDb('dtmco');
    await pdb.db.query('CREATE TABLE accounts (id VARCHAR(64) PRIMARY KEY, balance BIGINT NOT NULL)');
    const barrier = createDtmBarrier(pdb.db, { table: pdb.table });
    const move = (sign: 1 | -1) => async (c: { req: { json<T>(): Promise<T> } }, t: Transaction) => {
      const { account, amount } = await c.req.json<{ account: string; amount: number }>();
      const sql = 'UPDATE accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0';
      if (!(await exec(pdb.db, sql, [sign * amount, account, sign * amount], t))) throw new DtmFailure('insufficient balance');
    };
    const app = new Hono<DtmBranchEnv>();
    app.post('/transfer-out', dtmBranch(barrier), (c) => c.var.dtm.handle((t) => move(-1)(c, t)));
    app.post('/transfer-out-compensate', dtmBranch(barrier), (c) => c.var.dtm.handle((t) => move(1)(c, t)));
    app.post('/transfer-in', dtmBranch(barrier), (c) => c.var.dtm.handle((t) => move(1)(c, t)));
    app.post('/transfer-in-compensate', dtmBranch(barrier), (c) => c.var.dtm.handle((t) => move(-1)(c, t)));
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    if (server) await new Promise<void>((r) => server.close(() => r()));
    await pdb?.close();
    await env?.close();
  });

  const accounts = async (...pairs: Array<[string, number]>) => {
    for (const [id, balance] of pairs) await pdb.db.query('INSERT INTO accounts (id, balance) VALUES (?, ?)', { replacements: [id, balance] });
  };
  const balance = async (id: string) => {
    const [rows] = await pdb.db.query('SELECT balance FROM accounts WHERE id = ?', { replacements: [id] });
    return Number((rows as Array<{ balance: number }>)[0].balance);
  };
  const saga = async (steps: Array<{ path: string; account: string; amount: number }>) => {
    const { json } = await dtmCall(env, 'newGid');
    const gid = json.gid as string;
    const answer = await dtmCall(env, 'submit', {
      gid,
      trans_type: 'saga',
      wait_result: true,
      steps: steps.map((s) => ({ action: `${base}${s.path}`, compensate: `${base}${s.path}-compensate` })),
      payloads: steps.map((s) => JSON.stringify({ account: s.account, amount: s.amount })),
    });
    return { gid, status: answer.status };
  };

  it('when a saga moves money between two kit routes, then the coordinator answers 200 and the balances moved once', async () => {
    const [from, to] = [`a-${Date.now()}`, `b-${Date.now()}`];
    await accounts([from, 100], [to, 0]);
    const { status } = await saga([
      { path: '/transfer-out', account: from, amount: 30 },
      { path: '/transfer-in', account: to, amount: 30 },
    ]);
    expect(status).toBe(200);
    expect([await balance(from), await balance(to)]).toEqual([70, 30]);
  });

  it('when a kit route rejects its action, then the saga fails, the money is back and the failed branch was compensated as a no-op', async () => {
    const [from, to] = [`c-${Date.now()}`, `d-${Date.now()}`];
    await accounts([from, 100], [to, 0]);
    const { gid, status } = await saga([
      { path: '/transfer-in', account: to, amount: 500 },
      { path: '/transfer-out', account: from, amount: 500 },
    ]);
    expect(status).toBe(409);
    expect([await balance(from), await balance(to)]).toEqual([100, 0]);
    const [rows] = await pdb.db.query(`SELECT branch_id, op, reason FROM ${pdb.table} WHERE gid = ? ORDER BY branch_id, op`, { replacements: [gid] });
    expect(rows).toEqual([
      { branch_id: '01', op: 'action', reason: 'action' },
      { branch_id: '01', op: 'compensate', reason: 'compensate' },
      { branch_id: '02', op: 'action', reason: 'compensate' },
      { branch_id: '02', op: 'compensate', reason: 'compensate' },
    ]);
  });
});
