// TCC, 2-phase messages and XA through DTM's HTTP protocol: the test is the application (prepare, register, try,
// local transaction, submit or abort), the participant a real HTTP server on MariaDB behind DTM's barrier (XA in a
// real XA transaction); each scenario judged by the participant's database (and XA RECOVER).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uid } from '../helpers/env';
import { until } from '../helpers/wait';
import { createDtmEnv, dtmCall, type DtmEnv } from './coordinator';

let env: DtmEnv;
beforeAll(async () => {
  env = await createDtmEnv();
});
afterAll(() => env?.close());

const fast = { retry_interval: 1, request_timeout: 3 };
const ops = (gid: string) => env.part.calls.filter((c) => c.gid === gid).map((c) => `${c.branch_id}:${c.op}`);
const statusOf = async (gid: string) => (await dtmCall(env, `query?gid=${gid}`)).json.transaction?.status;
async function account(balance: number): Promise<string> {
  const id = uid('acct-');
  await env.part.db.query('INSERT INTO accounts (user_id, balance) VALUES (?, ?)', [id, balance]);
  return id;
}

describe('DTM protocol: TCC', () => {
  async function tryBranch(gid: string, branchId: string, payload: { account: string; amount: number }, alias = 'registerBranch') {
    const reg = await dtmCall(env, alias, { gid, trans_type: 'tcc', branch_id: branchId, status: 'prepared', data: JSON.stringify(payload), confirm: `${env.part.url}/tcc`, cancel: `${env.part.url}/tcc` });
    expect(reg.status).toBe(200);
    const r = await fetch(`${env.part.url}/tcc?gid=${gid}&trans_type=tcc&branch_id=${branchId}&op=try`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    return r.status;
  }

  it('when every try succeeds and the client submits, then every branch is confirmed, in reverse registration order', async () => {
    const [a, b, gid] = [await account(100), uid('b-'), uid('g-')];
    expect((await dtmCall(env, 'prepare', { gid, trans_type: 'tcc', ...fast })).status).toBe(200);
    expect((await dtmCall(env, 'prepare', { gid, trans_type: 'tcc', ...fast })).status).toBe(200); // a duplicate prepare
    expect(await tryBranch(gid, '01', { account: a, amount: -40 })).toBe(200);
    expect(await tryBranch(gid, '02', { account: b, amount: 40 }, 'registerTccBranch')).toBe(200);
    expect(await env.part.balance(a)).toEqual({ balance: 100, trying: -40 });
    expect((await dtmCall(env, 'submit', { gid, trans_type: 'tcc', wait_result: true })).status).toBe(200);
    expect(ops(gid)).toEqual(['01:try', '02:try', '02:confirm', '01:confirm']);
    expect(await env.part.balance(a)).toEqual({ balance: 60, trying: 0 });
    expect(await env.part.balance(b)).toEqual({ balance: 40, trying: 0 });
    const q = (await dtmCall(env, `query?gid=${gid}`)).json;
    expect(q.transaction.status).toBe('succeed');
    expect(q.branches.map((x: any) => `${x.branch_id}:${x.op}:${x.status}`)).toEqual(['01:cancel:prepared', '01:confirm:succeed', '02:cancel:prepared', '02:confirm:succeed']);
  });

  it('when a try fails and the client aborts, then every branch is cancelled in reverse (the failed try a no-op) and nothing moved', async () => {
    const [a, poor, gid] = [await account(100), await account(5), uid('g-')];
    expect((await dtmCall(env, 'prepare', { gid, trans_type: 'tcc', ...fast })).status).toBe(200);
    expect(await tryBranch(gid, '01', { account: a, amount: -40 })).toBe(200);
    expect(await tryBranch(gid, '02', { account: poor, amount: -50 })).toBe(409);
    expect((await dtmCall(env, 'abort', { gid, trans_type: 'tcc' })).status).toBe(200);
    await until(async () => (await statusOf(gid)) === 'failed', 20_000);
    expect(ops(gid)).toEqual(['01:try', '02:try', '02:cancel', '01:cancel']);
    expect(await env.part.balance(a)).toEqual({ balance: 100, trying: 0 });
    expect(await env.part.balance(poor)).toEqual({ balance: 5, trying: 0 });
    expect((await dtmCall(env, 'registerBranch', { gid, trans_type: 'tcc', branch_id: '03', confirm: `${env.part.url}/tcc`, cancel: `${env.part.url}/tcc` })).status).toBe(409);
    expect((await dtmCall(env, 'submit', { gid, trans_type: 'tcc' })).status).toBe(409);
  });

  it('when a prepared TCC is never submitted, then at timeout_to_fail its branches are cancelled', async () => {
    const [a, gid] = [await account(100), uid('g-')];
    expect((await dtmCall(env, 'prepare', { gid, trans_type: 'tcc', ...fast, timeout_to_fail: 1 })).status).toBe(200);
    expect(await tryBranch(gid, '01', { account: a, amount: -40 })).toBe(200);
    await until(async () => (await statusOf(gid)) === 'failed', 20_000);
    expect(await env.part.balance(a)).toEqual({ balance: 100, trying: 0 });
    expect((await dtmCall(env, `query?gid=${gid}`)).json.transaction.rollback_reason).toBe('timeout');
  });
});

describe('DTM protocol: 2-phase message', () => {
  const msgBody = (gid: string, steps: Array<{ account: string; amount: number }>, extra: Record<string, unknown> = {}) => ({
    gid,
    trans_type: 'msg',
    steps: steps.map(() => ({ action: `${env.part.url}/msg` })),
    payloads: steps.map((s) => JSON.stringify({ ...s })),
    query_prepared: `${env.part.url}/query_prepared`,
    ...fast,
    ...extra,
  });

  it('when the local transaction commits and the client submits, then every action is delivered', async () => {
    const [src, a, b, gid] = [await account(50), uid('a-'), uid('b-'), uid('g-')];
    const body = msgBody(gid, [{ account: a, amount: 20 }, { account: b, amount: 30 }]);
    expect((await dtmCall(env, 'prepare', body)).status).toBe(200);
    expect(await env.part.localTransaction(gid, src, -50, true)).toBe(true);
    expect((await dtmCall(env, 'submit', { ...body, wait_result: true })).status).toBe(200);
    expect([await env.part.balance(src), await env.part.balance(a), await env.part.balance(b)].map((x) => x.balance)).toEqual([0, 20, 30]);
    expect(ops(gid)).toEqual(['01:action', '02:action']);
  });

  it('when a message asks for a delay, then it is submitted at once and delivered only after the delay', async () => {
    const [a, gid] = [uid('a-'), uid('g-')];
    const body = msgBody(gid, [{ account: a, amount: 8 }], { custom_data: JSON.stringify({ delay: 3 }) });
    expect((await dtmCall(env, 'submit', body)).status).toBe(200);
    expect(await statusOf(gid)).toBe('submitted');
    expect(ops(gid)).toEqual([]); // still waiting out its delay
    await until(async () => (await statusOf(gid)) === 'succeed', 30_000);
    expect((await env.part.balance(a)).balance).toBe(8);
  });

  it('when the local transaction rolls back and the client aborts, then nothing is delivered and the message failed', async () => {
    const [src, a, gid] = [await account(50), uid('a-'), uid('g-')];
    const body = msgBody(gid, [{ account: a, amount: 20 }]);
    expect((await dtmCall(env, 'prepare', body)).status).toBe(200);
    expect(await env.part.localTransaction(gid, src, -50, false)).toBe(false);
    expect((await dtmCall(env, 'abort', body)).status).toBe(200);
    await until(async () => (await statusOf(gid)) === 'failed', 20_000);
    expect(ops(gid)).toEqual([]);
    expect([await env.part.balance(src), await env.part.balance(a)].map((x) => x.balance)).toEqual([50, 0]);
  });

  it('when the client never submits but the local transaction committed, then the back-check (after an ONGOING) delivers it', async () => {
    const [src, a, gid] = [await account(50), uid('a-'), uid('g-')];
    env.part.script(gid, '00', 'msg', ['ONGOING']);
    expect((await dtmCall(env, 'prepare', msgBody(gid, [{ account: a, amount: 20 }], { timeout_to_fail: 1 }))).status).toBe(200);
    expect(await env.part.localTransaction(gid, src, -20, true)).toBe(true);
    await until(async () => (await statusOf(gid)) === 'succeed', 30_000);
    expect(ops(gid)).toEqual(['00:msg', '00:msg', '01:action']);
    expect([await env.part.balance(src), await env.part.balance(a)].map((x) => x.balance)).toEqual([30, 20]);
  });

  it('when the client never submits and the local transaction never committed, then the back-check fails it and a late local transaction is refused', async () => {
    const [src, a, gid] = [await account(50), uid('a-'), uid('g-')];
    expect((await dtmCall(env, 'prepare', msgBody(gid, [{ account: a, amount: 20 }], { timeout_to_fail: 1 }))).status).toBe(200);
    await until(async () => (await statusOf(gid)) === 'failed', 30_000);
    expect(ops(gid)).toEqual(['00:msg']);
    expect(await env.part.localTransaction(gid, src, -20, true)).toBe(false);
    expect([await env.part.balance(src), await env.part.balance(a)].map((x) => x.balance)).toEqual([50, 0]);
  });
});

describe('DTM protocol: XA', () => {
  async function xaBranch(gid: string, branchId: string, payload: { account: string; amount: number }) {
    const r = await fetch(`${env.part.url}/xa?gid=${gid}&trans_type=xa&branch_id=${branchId}&op=action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect(r.status).toBe(200);
  }
  const prepared = async (gid: string) => {
    const [rows] = await env.part.db.query('XA RECOVER');
    return (rows as Array<{ data: Buffer | string }>).filter((r) => String(r.data).startsWith(gid)).length;
  };

  it('when both branches prepared and the client submits, then both commit in registration order and nothing is left prepared', async () => {
    const [a, b, gid] = [uid('a-'), uid('b-'), uid('g-')];
    expect((await dtmCall(env, 'prepare', { gid, trans_type: 'xa', ...fast })).status).toBe(200);
    await xaBranch(gid, '01', { account: a, amount: -15 });
    await xaBranch(gid, '02', { account: b, amount: 15 });
    expect(await prepared(gid)).toBe(2);
    expect((await dtmCall(env, 'submit', { gid, trans_type: 'xa', wait_result: true })).status).toBe(200);
    expect(ops(gid)).toEqual(['01:action', '02:action', '01:commit', '02:commit']);
    expect(env.part.calls.filter((c) => c.gid === gid && c.op === 'commit').every((c) => c.method === 'POST')).toBe(true);
    expect([await env.part.balance(a), await env.part.balance(b)].map((x) => x.balance)).toEqual([-15, 15]);
    expect(await prepared(gid)).toBe(0);
  });

  it('when the client aborts, then every prepared branch rolls back and nothing is left prepared', async () => {
    const [a, gid] = [uid('a-'), uid('g-')];
    expect((await dtmCall(env, 'prepare', { gid, trans_type: 'xa', ...fast })).status).toBe(200);
    await xaBranch(gid, '01', { account: a, amount: 9 });
    expect((await dtmCall(env, 'abort', { gid, trans_type: 'xa' })).status).toBe(200);
    await until(async () => (await statusOf(gid)) === 'failed', 20_000);
    expect(ops(gid)).toEqual(['01:action', '01:rollback']);
    expect((await env.part.balance(a)).balance).toBe(0);
    expect(await prepared(gid)).toBe(0);
  });
});
