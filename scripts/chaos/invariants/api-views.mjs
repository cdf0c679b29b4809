// The API agrees with the databases: points per customer, every seeded account and merchant (sub-)account (each read
// on its shard), and the merchant's takings (the sum of its USD sub-accounts, on whichever shard each lives).
export default {
  name: 'api-views',
  async check({ api, flows, seed, accounts, expectedPoints }, v, summary) {
    const customers = new Set([...flows.values()].filter((f) => f.type === 'order').map((f) => f.body.customerId));
    for (const c of customers) {
      const r = await api.untilAnswered('GET', `/v1/customers/${c}/points`, { route: 'GET /v1/customers/:id/points' });
      if (r.status !== 200 || r.body.data.balance !== (expectedPoints[c] ?? 0)) v('points-mismatch', { customer: c, status: r.status, api: r.body?.data?.balance, expected: expectedPoints[c] ?? 0 });
    }
    const merchantIds = [...accounts.keys()].filter((id) => id.startsWith('merchant-'));
    for (const id of [...seed.hot, ...seed.eur, ...merchantIds]) {
      const r = await api.untilAnswered('GET', `/v1/accounts/${id}`, { route: 'GET /v1/accounts/:id' });
      const a = accounts.get(id);
      if (r.status !== 200 || !a || r.body.data.balance !== a.balance || r.body.data.frozen !== a.frozen) {
        v('account-view-mismatch', { id, status: r.status, api: r.body?.data, db: a && { balance: a.balance, frozen: a.frozen, shard: a.shard } });
      }
    }
    const takings = merchantIds.filter((id) => accounts.get(id).currency === 'USD').reduce((s, id) => s + accounts.get(id).balance, 0);
    const mr = await api.untilAnswered('GET', '/v1/merchants/merchant/balance?currency=USD', { route: 'GET /v1/merchants/:id/balance' });
    summary.merchant = { USD: takings, subAccounts: merchantIds.length };
    if (mr.status !== 200 || mr.body.data.balance !== takings) v('merchant-balance-mismatch', { status: mr.status, api: mr.body?.data?.balance, db: takings });
  },
};
