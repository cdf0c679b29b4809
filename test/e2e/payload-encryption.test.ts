// Who may see what in Temporal: the raw history the server keeps (read with the bare gRPC service, no codec) of a
// transfer, a rejected transfer, an order and a batch of transfers holds no account id, customer id or amount in
// clear; the API's codec endpoints decode those payloads for the Web UI and the CLI, and only for a caller with a key,
// from the Web UI's origin when called from a browser.
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import { orderWorkflowId } from '../../src/workflows/checkout/contract';
import { transferRunWorkflowId } from '../../src/workflows/transfer/contract';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { createProduct, uid } from '../helpers/env';
import { until } from '../helpers/wait';

const UI_ORIGIN = 'http://ui.sagaflow.test:8233';
const auth = { authorization: 'Bearer codec-test-secret' };

describe('payloads encrypted at rest', () => {
  let api: ApiEnv;
  let from: string;
  let to: string;
  const secrets: string[] = [];
  const runs: Record<string, string> = {};

  const open = async (owner: string, initialBalance: number) => {
    const res = await api.call('POST', '/v1/accounts', { owner, currency: 'USD', initialBalance }, auth);
    expect(res.status).toBe(201);
    return res.json.data.id as string;
  };

  /** Every page of a run's history as the server stores it, serialized: the bytes a reader of its database sees. */
  async function rawHistory(workflowId: string) {
    const pages: Buffer[] = [];
    const events: temporal.api.history.v1.IHistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const r = await api.env.client.workflowService.getWorkflowExecutionHistory({ namespace: api.config.temporal.namespace, execution: { workflowId }, nextPageToken });
      pages.push(Buffer.from(temporal.api.history.v1.History.encode(r.history ?? {}).finish()));
      events.push(...(r.history?.events ?? []));
      nextPageToken = r.nextPageToken?.length ? r.nextPageToken : undefined;
    } while (nextPageToken);
    return { bytes: Buffer.concat(pages), events };
  }

  beforeAll(async () => {
    api = await createApiEnv({ API_KEYS: 'ops:codec-test-secret', CODEC_CORS_ORIGIN: UI_ORIGIN, TRANSFER_MODE: 'single' });
    [from, to] = [await open('enc-a', 50_000_000), await open('enc-b', 0)];
    const customerId = uid('cust-');
    secrets.push(from, to, customerId, '7654321', '76543.21', '345678', '3456.78', '1234567', '12345.67');

    const transfer = await api.call('POST', '/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 7_654_321, currency: 'USD', memo: `memo ${customerId}` }, { ...auth, prefer: 'wait=30' });
    expect(transfer.json.data.status).toBe('COMPLETED');
    runs.transfer = transferRunWorkflowId(transfer.json.data.id);

    const rejected = await api.call('POST', '/v1/transfers', { fromAccountId: to, toAccountId: from, amount: 99_999_999, currency: 'USD' }, { ...auth, prefer: 'wait=30' });
    expect(rejected.json.data.status).toBe('COMPENSATED');
    runs.rejected = transferRunWorkflowId(rejected.json.data.id);

    const sku = await createProduct(api, 345_678, 5);
    const order = await api.call('POST', '/v1/orders', { customerId, paymentAccountId: from, items: [{ sku, quantity: 1 }] }, { ...auth, prefer: 'wait=30' });
    runs.order = orderWorkflowId(order.json.data.id);
    await until(async () => (await api.call('GET', `/v1/orders/${order.json.data.id}`, undefined, auth)).json.data.status === 'CONFIRMED');

    // The same workers behind an API that batches: three transfers posted at once share one run.
    const config = { ...api.config, flows: { ...api.config.flows, transfers: { ...api.config.flows.transfers, mode: 'batched' as const } } };
    const batched = createApp({ config, stores: api.stores, temporal: api.env.client, log: logger(config), metrics: createMetrics() });
    const post = (amount: number) =>
      batched.request('/v1/transfers', { method: 'POST', headers: { ...auth, prefer: 'wait=30', 'content-type': 'application/json' }, body: JSON.stringify({ fromAccountId: from, toAccountId: to, amount, currency: 'USD' }) });
    const members = await Promise.all([1_234_567, 1_234_567, 1_234_567].map(async (a) => ((await (await post(a)).json()) as any).data));
    expect(members.map((m) => m.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    runs.batch = transferRunWorkflowId(members[0].id);
    await api.env.client.workflow.getHandle(runs.batch).result();
  });
  afterAll(() => api?.close());

  it.each(['transfer', 'rejected', 'order', 'batch'])('when the raw history of a %s is read, then no account id, customer id or amount is in clear', async (name) => {
    const { bytes, events } = await rawHistory(runs[name]);
    expect(events.length).toBeGreaterThan(3);
    for (const s of secrets) expect(bytes.includes(Buffer.from(s)), `${name} history shows ${s}`).toBe(false);
    const started = events[0].workflowExecutionStartedEventAttributes!;
    expect(Buffer.from(started.input!.payloads![0].metadata!.encoding!).toString()).toBe('binary/encrypted');
  });

  it('when the codec endpoint decodes a raw payload with a key, then the input reads in clear, and encode round-trips', async () => {
    const { events } = await rawHistory(runs.transfer);
    const raw = temporal.api.common.v1.Payloads.toObject(temporal.api.common.v1.Payloads.create(events[0].workflowExecutionStartedEventAttributes!.input!), { bytes: String });
    const decoded = await api.call('POST', '/codec/decode', raw, { ...auth, origin: UI_ORIGIN, 'x-namespace': 'default' });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const input = JSON.parse(Buffer.from(decoded.json.payloads[0].data, 'base64').toString());
    expect(input).toMatchObject({ fromAccountId: from, toAccountId: to, amount: 7_654_321 });

    const encoded = await api.call('POST', '/codec/encode', decoded.json, auth);
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.json.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    const again = await api.call('POST', '/codec/decode', encoded.json, auth);
    expect(again.json).toEqual(decoded.json);
  });

  it('when the codec endpoint is called without a valid key or from another origin, then it refuses', async () => {
    const body = { payloads: [] };
    expect((await api.call('POST', '/codec/decode', body)).status).toBe(401);
    expect((await api.call('POST', '/codec/decode', body, { authorization: 'Bearer wrong' })).status).toBe(401);
    const foreign = await api.call('POST', '/codec/decode', body, { ...auth, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await api.app.request('/codec/decode', {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect((await api.call('POST', '/codec/decode', { nope: 1 }, auth)).status).toBe(400);
  });
});
