// The coordinator through DTM's HTTP protocol, as a client speaks it, with participants that are real HTTP servers
// writing to MariaDB behind DTM's barrier; each scenario judged by what the participant's database shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uid } from '../helpers/env';
import { createDtmEnv, dtmCall, type DtmEnv } from './coordinator';

const fast = { retry_interval: 1, request_timeout: 3 };

describe('DTM protocol: saga', () => {
  let env: DtmEnv;
  beforeAll(async () => {
    env = await createDtmEnv();
  });
  afterAll(() => env?.close());

  const sagaBody = (gid: string, steps: Array<{ account: string; amount: number }>, extra: Record<string, unknown> = {}) => ({
    gid,
    trans_type: 'saga',
    steps: steps.map(() => ({ action: `${env.part.url}/saga`, compensate: `${env.part.url}/saga` })),
    payloads: steps.map((s) => JSON.stringify(s)),
    ...fast,
    ...extra,
  });

  it('when a saga is submitted with wait_result and every action succeeds, then 200 and both balances moved', async () => {
    const [a, b] = [uid('a-'), uid('b-')];
    await env.part.db.query('INSERT INTO accounts (user_id, balance) VALUES (?, 100)', [a]);
    const { json: g } = await dtmCall(env, 'newGid');
    expect(g).toMatchObject({ dtm_result: 'SUCCESS' });
    const r = await dtmCall(env, 'submit', sagaBody(g.gid, [{ account: a, amount: -30 }, { account: b, amount: 30 }], { wait_result: true }));
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('FAILURE');
    expect(await env.part.balance(a)).toEqual({ balance: 70, trying: 0 });
    expect(await env.part.balance(b)).toEqual({ balance: 30, trying: 0 });
    const q = await dtmCall(env, `query?gid=${g.gid}`);
    expect(q.json.transaction).toMatchObject({ gid: g.gid, trans_type: 'saga', status: 'succeed' });
    expect(q.json.branches.map((x: any) => `${x.branch_id}:${x.op}:${x.status}`)).toEqual(['01:compensate:prepared', '01:action:succeed', '02:compensate:prepared', '02:action:succeed']);
  });
});
