// One trace spans the HTTP request, the workflow start (single mode: one update-with-start call), the workflow run (flows queue) and every activity (on the
// ledger shards' queues, the two accounts on different shards), and its id is the response's traceId.
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { dataConverterFor } from '../../src/platform/codec/data-converter';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { createAccount, ledgerDb, spans, testTracing } from '../helpers/env';

describe('tracing', () => {
  let api: ApiEnv;
  beforeAll(async () => {
    testTracing();
    // Single mode: each transfer is its own trace. (A batch run is traced under the request that opened it.)
    api = await createApiEnv({ TRANSFER_MODE: 'single' });
  });
  afterAll(() => api?.close());

  it('when a transfer is posted, then one trace covers API, workflow and activities and its id is the traceId', async () => {
    const client = new Client({
      connection: api.env.connection,
      namespace: api.config.temporal.namespace,
      interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
      dataConverter: dataConverterFor(api.config.codec.keys),
    });
    const app = createApp({ config: api.config, stores: api.stores, temporal: client, log: logger(api.config), metrics: createMetrics() });
    // On different shards, so the debit and the credit run on two task queues (two ledger workers).
    const from = await createAccount(api, 1_000, 'USD', { shard: 0 });
    const to = await createAccount(api, 0, 'USD', { shard: 1 });
    expect(ledgerDb(api, from)).not.toBe(ledgerDb(api, to));
    const res = await app.request('/v1/transfers', {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify({ fromAccountId: from, toAccountId: to, amount: 10, currency: 'USD' }),
    });
    const body = (await res.json()) as any;
    expect(body.data.status).toBe('COMPLETED');
    const traceId: string = body.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const expected = ['HTTP POST', 'UpdateWithStartWorkflow:awaitTransfer', 'RunWorkflow:transferMoney', 'StartActivity:debitSource', 'RunActivity:debitSource', 'RunActivity:creditDestination'];
    let names: string[] = [];
    for (let i = 0; i < 50 && !expected.every((n) => names.includes(n)); i++) {
      await sleep(100);
      names = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId).map((s) => s.name);
    }
    expect(names).toEqual(expect.arrayContaining(expected));
  });
});
