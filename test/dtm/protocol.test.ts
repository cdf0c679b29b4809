// The coordinator through DTM's HTTP protocol, as a client speaks it, with participants that are real HTTP servers
// writing to MariaDB behind DTM's barrier; each scenario judged by what the participant's database shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDtmActivities } from '../../src/activities/dtm/activities';
import { createApp } from '../../src/api/app';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import { createFlowsEnv, uid } from '../helpers/env';
import { until } from '../helpers/wait';
import { createDtmEnv, dtmCall, type DtmEnv } from './coordinator';

const fast = { retry_interval: 1, request_timeout: 3 };

describe('DTM protocol: saga', () => {
  let env: DtmEnv;
  beforeAll(async () => {
    env = await createDtmEnv();
  });
  afterAll(() => env?.close());

  async function account(balance: number): Promise<string> {
    const id = uid('acct-');
    await env.part.db.query('INSERT INTO accounts (user_id, balance) VALUES (?, ?)', [id, balance]);
    return id;
  }
  const sagaBody = (gid: string, steps: Array<{ account: string; amount: number }>, extra: Record<string, unknown> = {}) => ({
    gid,
    trans_type: 'saga',
    steps: steps.map(() => ({ action: `${env.part.url}/saga`, compensate: `${env.part.url}/saga` })),
    payloads: steps.map((s) => JSON.stringify(s)),
    ...fast,
    ...extra,
  });
  const ops = (gid: string) => env.part.calls.filter((c) => c.gid === gid).map((c) => `${c.branch_id}:${c.op}`);
  const statusOf = async (gid: string) => (await dtmCall(env, `query?gid=${gid}`)).json.transaction?.status;

  it('when a saga is submitted with wait_result and every action succeeds, then 200, both balances moved and query shows it', async () => {
    const [a, b] = [await account(100), uid('b-')];
    const { json: g } = await dtmCall(env, 'newGid');
    expect(g).toMatchObject({ dtm_result: 'SUCCESS', gid: expect.any(String) });
    const r = await dtmCall(env, 'submit', sagaBody(g.gid, [{ account: a, amount: -30 }, { account: b, amount: 30 }], { wait_result: true }));
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('FAILURE');
    expect(await env.part.balance(a)).toEqual({ balance: 70, trying: 0 });
    expect(await env.part.balance(b)).toEqual({ balance: 30, trying: 0 });
    const q = await dtmCall(env, `query?gid=${g.gid}`);
    expect(q.json.transaction).toMatchObject({ gid: g.gid, trans_type: 'saga', status: 'succeed', rollback_reason: '' });
    expect(q.json.branches.map((x: any) => `${x.branch_id}:${x.op}:${x.status}`)).toEqual(['01:compensate:prepared', '01:action:succeed', '02:compensate:prepared', '02:action:succeed']);
    // The durable record says the same once the workflow wrote it at its end.
    const [rows] = await env.stores.db('dtm').query('SELECT status FROM dtm_trans WHERE gid = ?', { replacements: [g.gid] });
    expect(rows).toEqual([{ status: 'succeed' }]);
  });

  it('when an action fails, then 409 with the reason under wait_result and every started branch is compensated in reverse, the failed one included', async () => {
    const [a, b, poor] = [await account(100), uid('b-'), await account(5)];
    const gid = uid('g-');
    const r = await dtmCall(env, 'submit', sagaBody(gid, [{ account: a, amount: -30 }, { account: b, amount: 30 }, { account: poor, amount: -50 }], { wait_result: true }));
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ dtm_result: 'FAILURE', message: expect.stringContaining('03') });
    expect(ops(gid)).toEqual(['01:action', '02:action', '03:action', '03:compensate', '02:compensate', '01:compensate']);
    expect(await env.part.balance(a)).toEqual({ balance: 100, trying: 0 });
    expect(await env.part.balance(b)).toEqual({ balance: 0, trying: 0 });
    expect(await env.part.balance(poor)).toEqual({ balance: 5, trying: 0 }); // its compensation was the barrier's no-op
    expect((await env.part.effects(gid)).map((e) => `${e.branch_id}:${e.op}`)).toEqual(['01:action', '02:action', '02:compensate', '01:compensate']);
    expect(await statusOf(gid)).toBe('failed');
  });

  it('when a branch answers ONGOING, then 500, then it is called again until it succeeds', async () => {
    const [a, gid] = [uid('a-'), uid('g-')];
    env.part.script(gid, '01', 'action', ['ONGOING', 500]);
    const r = await dtmCall(env, 'submit', sagaBody(gid, [{ account: a, amount: 10 }], { wait_result: true, request_timeout: 10 }));
    expect(r.status).toBe(200);
    expect(ops(gid)).toEqual(['01:action', '01:action', '01:action']);
    expect(await env.part.balance(a)).toEqual({ balance: 10, trying: 0 });
  });

  it('when a concurrent saga has orders, then a step runs after its predecessors; when it fails, it is compensated before them', async () => {
    const [a, b, c] = [uid('a-'), uid('b-'), uid('c-')];
    const ok = uid('g-');
    const custom = JSON.stringify({ concurrent: true, orders: { '2': [0, 1] } });
    expect((await dtmCall(env, 'submit', sagaBody(ok, [{ account: a, amount: 1 }, { account: b, amount: 2 }, { account: c, amount: 3 }], { wait_result: true, custom_data: custom }))).status).toBe(200);
    const seen = ops(ok);
    expect(seen.indexOf('03:action')).toBeGreaterThan(Math.max(seen.indexOf('01:action'), seen.indexOf('02:action')));
    expect([await env.part.balance(a), await env.part.balance(b), await env.part.balance(c)].map((x) => x.balance)).toEqual([1, 2, 3]);

    const bad = uid('g-');
    const poor = await account(0);
    const r = await dtmCall(env, 'submit', sagaBody(bad, [{ account: a, amount: 1 }, { account: b, amount: 2 }, { account: poor, amount: -3 }], { wait_result: true, custom_data: custom }));
    expect(r.status).toBe(409);
    const calls = ops(bad);
    expect(calls.indexOf('03:compensate')).toBeLessThan(Math.min(calls.indexOf('01:compensate'), calls.indexOf('02:compensate')));
    expect([await env.part.balance(a), await env.part.balance(b), await env.part.balance(poor)].map((x) => x.balance)).toEqual([1, 2, 0]);
  });

  it('when a saga is submitted again, then while it runs the re-submit is harmless (200) and once finished it is 409', async () => {
    const [a, gid] = [uid('a-'), uid('g-')];
    env.part.script(gid, '01', 'action', ['ONGOING', 'ONGOING']);
    const body = sagaBody(gid, [{ account: a, amount: 7 }]);
    expect((await dtmCall(env, 'submit', body)).status).toBe(200);
    expect((await dtmCall(env, 'submit', body)).status).toBe(200);
    await until(async () => (await statusOf(gid)) === 'succeed', 30_000);
    const again = await dtmCall(env, 'submit', body);
    expect(again.status).toBe(409);
    expect(again.json.dtm_result).toBe('FAILURE');
    expect(await env.part.balance(a)).toEqual({ balance: 7, trying: 0 }); // applied once
  });

  it('when only the durable record knows a gid (its workflow past retention), then query answers from it and the gid is never started again', async () => {
    const [a, gid] = [uid('a-'), uid('g-')];
    const body = sagaBody(gid, [{ account: a, amount: 3 }], { wait_result: true });
    const at = new Date().toISOString();
    await createDtmActivities({ db: env.stores.db('dtm'), urlPolicy: { production: false, allow: [] } }).recordTransaction({
      gid, trans_type: 'saga', status: 'succeed', protocol: 'http', rollback_reason: '', query_prepared: '', custom_data: '', steps: body.steps, payloads: body.payloads, options: {},
      create_time: at, update_time: at, finish_time: at, rollback_time: null,
      branches: [{ branch_id: '01', op: 'compensate', url: body.steps[0].compensate, status: 'prepared' }, { branch_id: '01', op: 'action', url: body.steps[0].action, status: 'succeed' }],
    });
    const q = (await dtmCall(env, `query?gid=${gid}`)).json;
    expect(q.transaction).toMatchObject({ gid, status: 'succeed' });
    expect(q.branches.map((x: any) => `${x.branch_id}:${x.op}:${x.status}`)).toEqual(['01:compensate:prepared', '01:action:succeed']);
    expect((await dtmCall(env, 'submit', body)).status).toBe(409);
    expect(await env.env.client.workflow.getHandle(`dtm-${gid}`).describe().then(() => 'exists', () => 'none')).toBe('none');
    expect(ops(gid)).toEqual([]);
  });

  it('when branch_headers are given, then every branch call carries them, with a W3C traceparent', async () => {
    const [a, gid] = [uid('a-'), uid('g-')];
    expect((await dtmCall(env, 'submit', sagaBody(gid, [{ account: a, amount: 1 }], { wait_result: true, branch_headers: { 'x-tenant': 'acme' } }))).status).toBe(200);
    const h = env.part.headers.get(`${gid}/01/action`)!;
    expect(h['x-tenant']).toBe('acme');
    expect(h['content-type']).toBe('application/json');
    expect(h.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it('when a body has nulls and unknown keys, then it is accepted; when it names a gid that does not exist, then query says null', async () => {
    const [a, gid] = [uid('a-'), uid('g-')];
    const r = await dtmCall(env, 'submit', { ...sagaBody(gid, [{ account: a, amount: 2 }]), custom_data: null, query_prepared: null, protocol: null, passthrough_headers: [], something_new: 1, wait_result: true });
    expect(r.status).toBe(200);
    expect((await dtmCall(env, `query?gid=${uid('none-')}`)).json).toEqual({ transaction: null, branches: [] });
    expect((await dtmCall(env, 'all?limit=5')).json.transactions.length).toBeGreaterThan(0);
    expect((await dtmCall(env, 'version')).json.version).toEqual(expect.any(String));
  });

  it('when transactions ended, then /metrics counts them by type and outcome', async () => {
    const text = await env.metrics.registry.metrics();
    expect(text).toMatch(/sagaflow_dtm_transactions\{trans_type="saga",status="succeed"\} [1-9]/);
    expect(text).toMatch(/sagaflow_dtm_transactions\{trans_type="saga",status="failed"\} [1-9]/);
    expect(text).toMatch(/sagaflow_dtm_requests_total\{endpoint="submit",trans_type="saga",result="FAILURE"\} [1-9]/);
  });

  it('when the workers stop mid-transaction, then fresh workers finish it', async () => {
    const [a, b, gid] = [uid('a-'), uid('b-'), uid('g-')];
    env.part.script(gid, '02', 'action', [503]);
    expect((await dtmCall(env, 'submit', sagaBody(gid, [{ account: a, amount: 4 }, { account: b, amount: 5 }], { retry_interval: 2 }))).status).toBe(200);
    await until(() => env.part.calls.some((c) => c.gid === gid && c.branch_id === '02'), 20_000);
    await env.restartWorkers(async () => {
      expect(await statusOf(gid)).toBe('submitted'); // the record/workflow still holds it while no worker runs
    });
    await until(async () => (await statusOf(gid)) === 'succeed', 40_000);
    expect([(await env.part.balance(a)).balance, (await env.part.balance(b)).balance]).toEqual([4, 5]);
  });
});

describe('DTM protocol: auth and the branch URL guard', () => {
  it('when API keys are set and DTM_OPEN is not, then the endpoints need the key; with DTM_OPEN=1 they do not', async () => {
    for (const [open, expected] of [['0', 401], ['1', 200]] as const) {
      const ctx = await createFlowsEnv({ API_KEYS: 'k1', DTM_OPEN: open, LOG_LEVEL: 'silent' });
      try {
        const app = createApp({ config: ctx.config, stores: ctx.stores, temporal: ctx.env.client, log: logger(ctx.config), metrics: createMetrics() });
        expect((await app.request('/api/dtmsvr/newGid')).status).toBe(expected);
        expect((await app.request('/api/dtmsvr/newGid', { headers: { authorization: 'Bearer k1' } })).status).toBe(200);
      } finally {
        await ctx.close();
      }
    }
  });

  it('when DTM_BRANCH_URL_ALLOW is set, then a branch URL outside it is refused before anything starts', async () => {
    const ctx = await createFlowsEnv({ DTM_OPEN: '1', DTM_BRANCH_URL_ALLOW: 'http://127.0.0.1:*/allowed/*', LOG_LEVEL: 'silent' });
    try {
      const app = createApp({ config: ctx.config, stores: ctx.stores, temporal: ctx.env.client, log: logger(ctx.config), metrics: createMetrics() });
      const gid = uid('g-');
      const body = (path: string) => ({ gid, trans_type: 'saga', steps: [{ action: `http://127.0.0.1:9/${path}`, compensate: 'http://127.0.0.1:9/allowed/c' }], payloads: ['{}'] });
      const refused = await app.request('/api/dtmsvr/submit', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body('elsewhere/a')) });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ dtm_result: 'FAILURE', message: expect.stringContaining('DTM_BRANCH_URL_ALLOW') });
      const meta = await app.request('/api/dtmsvr/submit', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body('allowed/a'), steps: [{ action: 'http://169.254.169.254/allowed/x', compensate: 'http://127.0.0.1:9/allowed/c' }] }) });
      expect(meta.status).toBe(400);
      expect((await app.request(`/api/dtmsvr/query?gid=${gid}`)).status).toBe(200);
      expect(await (await app.request(`/api/dtmsvr/query?gid=${gid}`)).json()).toEqual({ transaction: null, branches: [] });
    } finally {
      await ctx.close();
    }
  });
});
