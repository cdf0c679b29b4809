// Orders at the API's edge, through the real app over the real Temporal server and databases: what the pre-check
// refuses before any flow starts, and what a customer's cancel over HTTP records as the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { createAccount, createProduct, uid } from '../helpers/env';
import { until } from '../helpers/wait';

describe('orders at the edge', () => {
  let api: ApiEnv;
  beforeAll(async () => {
    api = await createApiEnv();
  });
  afterAll(() => api?.close());

  it('when the lines total more than one payment may move (10^12 minor units), then the order is refused with 4001 and no flow starts', async () => {
    const payer = await createAccount(api, 1_000);
    const sku = await createProduct(api, 10_000_000_000, 1_000); // 10^10 each
    const customerId = uid('c-');
    const res = await api.call('POST', '/v1/orders', { customerId, paymentAccountId: payer, items: [{ sku, quantity: 101 }] }, { prefer: 'wait=5' });
    expect(res.status).toBe(422);
    expect(res.json.code).toBe(4001);
    expect(res.json.data.reason).toBe('TotalTooLarge');
    // Exactly the limit is still an order (refused later for funds, not here).
    const atLimit = await api.call('POST', '/v1/orders', { customerId, paymentAccountId: payer, items: [{ sku, quantity: 100 }] });
    expect(atLimit.status).toBe(202);
  });

  it('when a customer cancels an order over HTTP without a reason, then the order says the customer cancelled it', async () => {
    const payer = await createAccount(api, 5_000_000);
    const sku = await createProduct(api, 1_200_000, 5); // over the approval threshold: the order waits for approval
    const res = await api.call('POST', '/v1/orders', { customerId: uid('c-'), paymentAccountId: payer, items: [{ sku, quantity: 1 }] });
    const id = res.json.data.id;
    await until(async () => (await api.call('GET', `/v1/orders/${id}`)).json.data?.status === 'AWAITING_APPROVAL');
    expect((await api.call('POST', `/v1/orders/${id}/cancel`)).status).toBe(202);
    await until(async () => (await api.call('GET', `/v1/orders/${id}`)).json.data?.status === 'CANCELLED');
    expect((await api.call('GET', `/v1/orders/${id}`)).json.data).toMatchObject({ reason: 'cancelled by the customer', reasonCode: 'OrderCancelled' });
  });
});
