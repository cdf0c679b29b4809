// DTM's real Python client (dtmcli 1.7.7.0 from PyPI, unmodified) against sagaflow's coordinator on its own listener:
// sagas, TCC and 2-phase messages through the client's own API, participants that are real HTTP servers on MariaDB
// behind DTM's barrier, each scenario judged by the participant's database. Every client run has a watchdog.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uid } from '../helpers/env';
import { until } from '../helpers/wait';
import { createDtmEnv, dtmCall, type DtmEnv } from './coordinator';
import { ensureDtmcli, runClient } from './python';

let env: DtmEnv;
let python: string;
let db: { host: string; port: number; user: string; password: string; database: string };

beforeAll(async () => {
  [env, python] = await Promise.all([createDtmEnv(), ensureDtmcli()]);
  const [rows] = await env.part.db.query('SELECT DATABASE() AS d');
  const u = new URL(env.config.db.urls.dtm);
  db = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: (rows as Array<{ d: string }>)[0].d };
}, 400_000);
afterAll(() => env?.close());

const client = (scenario: string, gid: string, args: Record<string, unknown>) => runClient(python, { scenario, gid, dtm: env.dtm, part: env.part.url, db, ...args });
const ops = (gid: string) => env.part.calls.filter((c) => c.gid === gid).map((c) => `${c.branch_id}:${c.op}`);
const statusOf = async (gid: string) => (await dtmCall(env, `query?gid=${gid}`)).json.transaction?.status;
const balances = async (...ids: string[]) => Promise.all(ids.map(async (id) => (await env.part.balance(id)).balance));
async function account(balance: number): Promise<string> {
  const id = uid('py-');
  await env.part.db.query('INSERT INTO accounts (user_id, balance) VALUES (?, ?)', [id, balance]);
  return id;
}

describe('dtmcli (Python) saga', () => {
  it('when a saga succeeds with wait_result and branch headers, then both moved, the headers arrived and query shows it succeeded', async () => {
    const [a, b, gid] = [await account(100), uid('b-'), uid('pyg-')];
    const out = await client('saga', gid, { steps: [{ account: a, amount: -30 }, { account: b, amount: 30 }], wait_result: true, headers: { 'x-tenant': 'py' } });
    expect(out).toEqual({ ok: true, result: gid });
    expect(await balances(a, b)).toEqual([70, 30]);
    expect(env.part.headers.get(`${gid}/01/action`)?.['x-tenant']).toBe('py');
    const q = (await dtmCall(env, `query?gid=${gid}`)).json;
    expect(q.transaction).toMatchObject({ gid, trans_type: 'saga', status: 'succeed' });
  });

  it('when an action fails under wait_result, then the client gets FAILURE and every started branch is compensated in reverse', async () => {
    const [a, b, poor, gid] = [await account(100), uid('b-'), await account(1), uid('pyg-')];
    const out = await client('saga', gid, { steps: [{ account: a, amount: -30 }, { account: b, amount: 30 }, { account: poor, amount: -10 }], wait_result: true });
    expect(out).toMatchObject({ ok: false, failure: true });
    expect(ops(gid)).toEqual(['01:action', '02:action', '03:action', '03:compensate', '02:compensate', '01:compensate']);
    expect(await balances(a, b, poor)).toEqual([100, 0, 1]);
  });

  it('when a branch answers ONGOING and then 500 before succeeding, then the saga still succeeds, each effect once', async () => {
    const [a, gid] = [uid('a-'), uid('pyg-')];
    env.part.script(gid, '01', 'action', ['ONGOING', 500]);
    expect(await client('saga', gid, { steps: [{ account: a, amount: 12 }], wait_result: true })).toMatchObject({ ok: true });
    expect(ops(gid)).toEqual(['01:action', '01:action', '01:action']);
    expect(await balances(a)).toEqual([12]);
  });

  it('when a concurrent saga has orders, then step 2 follows steps 0 and 1; when it fails, all three are compensated, it first', async () => {
    const [a, b, c, gid] = [uid('a-'), uid('b-'), uid('c-'), uid('pyg-')];
    expect(await client('saga', gid, { steps: [{ account: a, amount: 1 }, { account: b, amount: 2 }, { account: c, amount: 3 }], orders: { '2': [0, 1] }, wait_result: true })).toMatchObject({ ok: true });
    const seen = ops(gid);
    expect(seen.indexOf('03:action')).toBeGreaterThan(Math.max(seen.indexOf('01:action'), seen.indexOf('02:action')));
    expect(await balances(a, b, c)).toEqual([1, 2, 3]);

    const [poor, bad] = [await account(0), uid('pyg-')];
    expect(await client('saga', bad, { steps: [{ account: a, amount: 1 }, { account: b, amount: 2 }, { account: poor, amount: -3 }], orders: { '2': [0, 1] }, wait_result: true })).toMatchObject({ ok: false, failure: true });
    const calls = ops(bad);
    expect(calls.indexOf('03:compensate')).toBeLessThan(Math.min(calls.indexOf('01:compensate'), calls.indexOf('02:compensate')));
    expect(await balances(a, b, poor)).toEqual([1, 2, 0]);
  });

  it('when a finished saga is submitted again, then the client gets FAILURE and nothing is applied twice', async () => {
    const [a, gid] = [uid('a-'), uid('pyg-')];
    expect(await client('saga', gid, { steps: [{ account: a, amount: 5 }], wait_result: true, submit_twice: true })).toMatchObject({ ok: false, failure: true });
    expect(await balances(a)).toEqual([5]);
    expect(await statusOf(gid)).toBe('succeed');
  });
});

describe('dtmcli (Python) TCC', () => {
  it('when every try succeeds, then the client submits and every branch is confirmed', async () => {
    const [a, b, gid] = [await account(100), uid('b-'), uid('pyg-')];
    expect(await client('tcc', gid, { steps: [{ account: a, amount: -40 }, { account: b, amount: 40 }] })).toEqual({ ok: true, result: gid });
    await until(async () => (await statusOf(gid)) === 'succeed', 30_000);
    expect(ops(gid)).toEqual(['01:try', '02:try', '02:confirm', '01:confirm']);
    expect(await Promise.all([env.part.balance(a), env.part.balance(b)])).toEqual([{ balance: 60, trying: 0 }, { balance: 40, trying: 0 }]);
  });

  it('when a try fails, then the client aborts and every branch is cancelled: nothing moved', async () => {
    const [a, poor, gid] = [await account(100), await account(3), uid('pyg-')];
    expect(await client('tcc', gid, { steps: [{ account: a, amount: -40 }, { account: poor, amount: -50 }] })).toEqual({ ok: true, result: '' });
    await until(async () => (await statusOf(gid)) === 'failed', 30_000);
    expect(ops(gid)).toEqual(['01:try', '02:try', '02:cancel', '01:cancel']);
    expect(await Promise.all([env.part.balance(a), env.part.balance(poor)])).toEqual([{ balance: 100, trying: 0 }, { balance: 3, trying: 0 }]);
  });
});

describe('dtmcli (Python) 2-phase message', () => {
  it('when the local transaction commits, then do_and_submit delivers every action (wait_result)', async () => {
    const [src, a, b, gid] = [await account(50), uid('a-'), uid('b-'), uid('pyg-')];
    const out = await client('msg', gid, { steps: [{ account: a, amount: 20 }, { account: b, amount: 30 }], local: { account: src, amount: -50 }, mode: 'commit', wait_result: true });
    expect(out).toEqual({ ok: true, result: gid });
    expect(await balances(src, a, b)).toEqual([0, 20, 30]);
    expect(await statusOf(gid)).toBe('succeed');
  });

  it('when the local transaction rolls back, then the client aborts: nothing delivered, the message failed', async () => {
    const [src, a, gid] = [await account(50), uid('a-'), uid('pyg-')];
    expect(await client('msg', gid, { steps: [{ account: a, amount: 20 }], local: { account: src, amount: -50 }, mode: 'rollback' })).toMatchObject({ ok: false, failure: true });
    await until(async () => (await statusOf(gid)) === 'failed', 20_000);
    expect(ops(gid)).toEqual([]);
    expect(await balances(src, a)).toEqual([50, 0]);
  });

  it('when the client dies after its local transaction committed, then the back-check delivers the message', async () => {
    const [src, a, gid] = [await account(50), uid('a-'), uid('pyg-')];
    expect(await client('msg', gid, { steps: [{ account: a, amount: 20 }], local: { account: src, amount: -20 }, mode: 'crash-after-commit', timeout_to_fail: 1 })).toMatchObject({ ok: true });
    await until(async () => (await statusOf(gid)) === 'succeed', 30_000);
    expect(ops(gid)).toEqual(['00:msg', '01:action']);
    expect(await balances(src, a)).toEqual([30, 20]);
  });

  it('when the client dies before its local transaction, then the back-check fails the message: nothing delivered', async () => {
    const [src, a, gid] = [await account(50), uid('a-'), uid('pyg-')];
    expect(await client('msg', gid, { steps: [{ account: a, amount: 20 }], local: { account: src, amount: -20 }, mode: 'crash-before', timeout_to_fail: 1 })).toMatchObject({ ok: true });
    await until(async () => (await statusOf(gid)) === 'failed', 30_000);
    expect(ops(gid)).toEqual(['00:msg']);
    expect(await balances(src, a)).toEqual([50, 0]);
  });
});
