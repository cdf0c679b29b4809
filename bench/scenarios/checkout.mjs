// checkout: POST /v1/orders with Prefer: wait=30, closed loop (--checkout-concurrency, 50 in flight): one line of a
// well-stocked product under the approval threshold, payers alternating over the shards (orders CONFIRMED per second).
import { randomUUID } from 'node:crypto';
import { log } from '../../scripts/lib/log.mjs';
import { ITEM } from '../lib/fixtures.mjs';
import { closedLoop } from '../lib/load.mjs';
import { windowHooks } from '../lib/measure.mjs';
import { summarize } from '../lib/stats.mjs';
import { outcomeCounter } from '../lib/transfer-load.mjs';

/** One checkout: true when answered 200 CONFIRMED (counted in `expected.ordersConfirmed`), throws on >= 400. */
function checkoutOp({ accounts, SHARDS, http, expected }, count, payerOnShard) {
  let n = 0;
  return async () => {
    const i = n++;
    const shard = i % SHARDS;
    const list = accounts.byShard[shard];
    const payer = list[Math.floor(i / SHARDS) % list.length];
    payerOnShard[shard]++;
    const body = { customerId: `bench-cust-${i % 500}`, paymentAccountId: payer, items: [{ sku: ITEM.sku, quantity: 1 }] };
    const r = await http.post('/v1/orders', body, { prefer: 'wait=30', 'idempotency-key': randomUUID() });
    count(r);
    if (r.status === 200 && r.body?.data?.status === 'CONFIRMED') {
      expected.ordersConfirmed++;
      return true;
    }
    if (r.status >= 400) throw new Error(`POST /v1/orders ${r.status}: ${r.text.slice(0, 300)}`);
    return false;
  };
}

export default {
  name: 'checkout',
  description: 'POST /v1/orders, Prefer: wait=30, closed loop: one line of a well-stocked product, payers alternating over the shards',
  options: {
    'checkout-concurrency': { type: 'string', default: '50', help: 'N: checkouts in flight' },
    'checkout-warmup': { type: 'string', help: 'S: warm-up of the checkout loop (15)' },
  },
  settings: (opt) => ({ checkoutConcurrency: Number(opt['checkout-concurrency']), checkoutWarmupMs: 1000 * Number(opt['checkout-warmup'] ?? 15) }),
  async run(ctx) {
    const { S, measured, record } = ctx;
    const { outcomes, count } = outcomeCounter();
    const payerOnShard = ctx.accounts.byShard.map(() => 0);
    const op = checkoutOp(ctx, count, payerOnShard);
    // A closed loop is steady only after its first round (every caller starts at once): at 50 in flight a round of
    // checkouts takes seconds here, longer than the transfers' warm-up.
    const warmupMs = Math.max(S.warmupMs, S.checkoutWarmupMs);
    const { r, usage } = await measured(async (hooks) => {
      const cancel = windowHooks(hooks, warmupMs, S.durationMs);
      const res = await closedLoop({ concurrency: S.checkoutConcurrency, warmupMs, durationMs: S.durationMs, op });
      cancel();
      return res;
    });
    if (r.firstError) log.warn(`checkout: ${r.firstError.message}`);
    record('checkout', {
      tps: r.ok / r.windowS,
      lat: summarize(r.latencies),
      usage,
      extra: {
        concurrency: S.checkoutConcurrency,
        warmup_ms: warmupMs,
        errors: r.errors,
        outcomes,
        payers_by_shard: payerOnShard,
        measure: `orders CONFIRMED per second (POST /v1/orders with Prefer: wait=30 answered 200 CONFIRMED), closed loop; one line of ${ITEM.sku} at ${ITEM.price} (under the approval threshold ${ctx.config.flows.approvalThreshold})`,
      },
    });
  },
};
