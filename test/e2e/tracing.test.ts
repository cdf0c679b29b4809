// One trace spans the HTTP request, the workflow start, the workflow run and every activity, and its id is the
// response's traceId.
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { createMetrics } from '../../src/api/metrics';
import { logger } from '../../src/logger';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { spans, testTracing } from '../helpers/env';

describe('tracing', () => {
  let api: ApiEnv;
  beforeAll(async () => {
    testTracing();
    api = await createApiEnv();
  });
  afterAll(() => api?.close());

  it('when a transfer is posted, then one trace covers API, workflow and activities and its id is the traceId', async () => {
    const client = new Client({
      connection: api.env.connection,
      namespace: api.config.temporal.namespace,
      interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    });
    const app = createApp({ config: api.config, db: api.db, temporal: client, log: logger(api.config), metrics: createMetrics() });
    const open = async (owner: string, initialBalance: number) => {
      const res = await app.request('/v1/accounts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ owner, currency: 'USD', initialBalance }) });
      return ((await res.json()) as any).data.id as string;
    };
    const [from, to] = [await open('a', 1_000), await open('b', 0)];
    const res = await app.request('/v1/transfers', {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=10' },
      body: JSON.stringify({ fromAccountId: from, toAccountId: to, amount: 10, currency: 'USD' }),
    });
    const body = (await res.json()) as any;
    expect(body.data.status).toBe('COMPLETED');
    const traceId: string = body.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const expected = ['HTTP POST', 'StartWorkflow:transferMoney', 'RunWorkflow:transferMoney', 'StartActivity:debitSource', 'RunActivity:debitSource', 'RunActivity:creditDestination'];
    let names: string[] = [];
    for (let i = 0; i < 50 && !expected.every((n) => names.includes(n)); i++) {
      await sleep(100);
      names = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId).map((s) => s.name);
    }
    expect(names).toEqual(expect.arrayContaining(expected));
  });
});
