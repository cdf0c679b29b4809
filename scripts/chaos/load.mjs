// Seed data and the mixed load of a chaos run, all through the HTTP API.
// - Seed: hot USD accounts on every ledger shard (POST /v1/accounts draws the id, and with it the shard: accounts are
//   opened until each shard holds enough), EUR accounts on every shard (currency mismatches and EUR transfers),
//   products with limited stock (inventory, server B; the orders go to server A).
// - Load: transfers (each in a random mode: saga, tcc or xa) among hot accounts, most of them across shards on purpose (and from the merchant account, on its
//   own shard, back to them), transfers that must be rejected
//   (insufficient funds → COMPENSATED; USD into a EUR account → 422), orders (small, out of stock, paid in the wrong
//   currency → 422, over the approval threshold then approved / cancelled / left to time out, cancelled while
//   trying), some sent twice at once or again later with the same Idempotency-Key (the same id must come back).
//   Every flow-starting POST carries an Idempotency-Key and is repeated with it on 503 or a lost answer; each POST
//   answered 2xx is an accepted flow that must end terminal. Bounded concurrency; a slot is held until its flow ends,
//   so the backlog never outruns the workers.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export const CONSISTENCIES = ['saga', 'tcc', 'xa'];
export const TERMINAL = { transfer: ['COMPLETED', 'COMPENSATED', 'FAILED'], order: ['CONFIRMED', 'CANCELLED', 'FAILED'] };
export const APPROVAL_THRESHOLD = 50_000;

const HOT_PER_SHARD = 4;
const EUR_PER_SHARD = 1;
const HOT_BALANCE = 5_000_000;
const EUR_BALANCE = 1_000_000;

const pick = (a) => a[Math.floor(Math.random() * a.length)];
const int = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const chance = (p) => Math.random() < p;

/**
 * `shardOf(id)` is the ledger's shard rule (src/activities/ledger/contract.ts), `shards` the shard count, `merchant` the
 * USD merchant account (opened by the ledger migration on its own shard), `merchantOf(orderId)` the merchant
 * sub-account an order's sale lands on (opened on its shard by the first sale).
 */
export async function seed(api, rec, { shardOf, shards, merchantOf, merchant = 'merchant-USD' }) {
  const must = async (path, body) => {
    const r = await api.untilAnswered('POST', path, { body, route: `POST ${path}` });
    if (r.status !== 201) throw new Error(`seeding ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.data;
  };
  /** Opens accounts until every shard holds `perShard` of them; every account opened is used (and counted). */
  const accountsOnEveryShard = async (owner, currency, balance, perShard) => {
    const ids = [];
    const byShard = Array.from({ length: shards }, () => []);
    for (let i = 1; byShard.some((l) => l.length < perShard); i++) {
      if (i > 50 * perShard * shards) throw new Error(`seeding: no ${currency} account landed on some shard after ${i - 1} (shard rule?)`);
      const { id } = await must('/v1/accounts', { owner: `${owner}-${i}`, currency, initialBalance: balance });
      ids.push(id);
      byShard[shardOf(id)].push(id);
    }
    return { ids, byShard };
  };
  const { ids: hot, byShard: hotByShard } = await accountsOnEveryShard('chaos-hot', 'USD', HOT_BALANCE, HOT_PER_SHARD);
  const { ids: eur, byShard: eurByShard } = await accountsOnEveryShard('chaos-eur', 'EUR', EUR_BALANCE, EUR_PER_SHARD);
  const products = {
    cheap: [
      { sku: 'chaos-cheap-1', name: 'Pencil', price: 500, currency: 'USD', stock: 1_000_000 },
      { sku: 'chaos-cheap-2', name: 'Notebook', price: 1_200, currency: 'USD', stock: 1_000_000 },
      { sku: 'chaos-mid-1', name: 'Lamp', price: 2_500, currency: 'USD', stock: 1_500 },
      { sku: 'chaos-mid-2', name: 'Chair', price: 5_000, currency: 'USD', stock: 400 },
    ],
    premium: { sku: 'chaos-premium', name: 'Desk', price: 30_000, currency: 'USD', stock: 600 },
    rare: { sku: 'chaos-rare', name: 'Signed print', price: 4_000, currency: 'USD', stock: 3 },
  };
  const all = [...products.cheap, products.premium, products.rare];
  for (const p of all) await must('/v1/products', p);
  const perShard = (l) => l.map((x) => x.length).join('/');
  rec.event('seeded', { hotAccounts: hot.length, hotPerShard: perShard(hotByShard), eurAccounts: eur.length, eurPerShard: perShard(eurByShard), merchantShard: shardOf(merchant), products: all.length });
  return {
    hot,
    hotByShard,
    eur,
    eurByShard,
    merchant,
    merchantOf,
    shardOf,
    shards,
    products,
    initialStock: Object.fromEntries(all.map((p) => [p.sku, p.stock])),
    seededTotals: { USD: hot.length * HOT_BALANCE, EUR: eur.length * EUR_BALANCE },
  };
}

export class Load {
  constructor({ api, rec, seedData, concurrency, runId, maxApprovals = 12 }) {
    Object.assign(this, { api, rec, seed: seedData, concurrency, runId, maxApprovals });
    this.flows = new Map(); // id → flow
    this.lifecycles = new Set();
    this.merchants = new Set(); // merchant sub-accounts known to exist (a confirmed order's sale landed there)
    this.opSeq = 0;
    this.stats = { ops: 0, rejected422: 0, duplicatesSent: 0, duplicatesMatched: 0, lateDuplicatesSent: 0, lateDuplicatesMatched: 0, byKind: {} };
    this.stopping = false;
  }

  get accepted() {
    return this.flows.size;
  }

  /** Terminal flows (as last observed), per type. */
  terminalByType() {
    const out = { transfer: 0, order: 0 };
    for (const f of this.flows.values()) if (this.isTerminal(f)) out[f.type]++;
    return out;
  }

  /** Runs until stop(); resolves once every started operation (not the approval lifecycles) finished. */
  async run() {
    const inflight = new Set();
    while (!this.stopping) {
      while (inflight.size < this.concurrency && !this.stopping) {
        const p = this.runOp(this.nextOp())
          .catch((err) => this.rec.violation('load-error', { error: String(err?.stack ?? err).slice(0, 400) }))
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }

  stop() {
    this.stopping = true;
  }

  nextOp() {
    const n = ++this.opSeq;
    const s = this.seed;
    const r = Math.random() * 100;
    // Every transfer picks one of the three guarantees (saga, tcc, xa) at random: the mix runs all of them side by side.
    const transfer = (kind, body) => ({ kind, type: 'transfer', path: '/v1/transfers', body: { ...body, consistency: pick(CONSISTENCIES) } });
    const order = (kind, items, extra = {}) => ({ kind, type: 'order', path: '/v1/orders', body: { customerId: `chaos-cust-${int(1, 8)}`, paymentAccountId: pick(s.hot), items }, ...extra });
    // Now and then a line of the rare product (3 in stock): the last units are fought over, then it is sold out.
    const small = () => Array.from({ length: int(1, 3) }, () => (chance(0.04) ? { sku: s.products.rare.sku, quantity: 1 } : { sku: pick(s.products.cheap).sku, quantity: int(1, 3) }));
    // Two different hot accounts; `cross`: on two different shards (so on two different database servers).
    const twoHot = (cross = chance(0.5)) => {
      const from = pick(s.hot);
      const here = s.shardOf(from);
      return [from, pick(s.hot.filter((x) => x !== from && (s.shardOf(x) !== here) === cross))];
    };
    let op;
    if (r < 30) {
      const [from, to] = twoHot(true);
      op = transfer('transfer-cross', { fromAccountId: from, toAccountId: to, amount: int(100, 150_000), currency: 'USD', memo: `chaos ${n}` });
    } else if (r < 40) {
      const [from, to] = twoHot(false);
      op = transfer('transfer-local', { fromAccountId: from, toAccountId: to, amount: int(100, 150_000), currency: 'USD', memo: `chaos ${n}` });
    } else if (r < 45) {
      // From a merchant sub-account that holds sales (the base account holds none: InsufficientFunds, compensated).
      const from = this.merchants.size ? pick([...this.merchants]) : s.merchant;
      op = transfer('transfer-merchant', { fromAccountId: from, toAccountId: pick(s.hot), amount: int(1_000, 200_000), currency: 'USD' });
    } else if (r < 49) {
      const [from, to] = twoHot();
      op = transfer('transfer-huge', { fromAccountId: from, toAccountId: to, amount: 100_000_000_000, currency: 'USD' });
    } else if (r < 52) {
      const from = pick(s.eur);
      op = transfer('transfer-eur', { fromAccountId: from, toAccountId: pick(s.eur.filter((x) => s.shardOf(x) !== s.shardOf(from))), amount: int(100, 50_000), currency: 'EUR' });
    } else if (r < 55) {
      op = transfer('transfer-mismatch', { fromAccountId: pick(s.hot), toAccountId: pick(s.eur), amount: int(100, 1_000), currency: 'USD' });
      op.expect422 = 'CurrencyMismatch';
    } else if (r < 80) {
      op = order('order-small', small());
    } else if (r < 84) {
      op = order('order-oos', [...small(), { sku: s.products.rare.sku, quantity: 1000 }]);
    } else if (r < 93 && this.lifecycles.size < this.maxApprovals) {
      const action = pick(['approve', 'approve', 'cancel', 'timeout']);
      op = order(`order-approval-${action}`, [{ sku: s.products.premium.sku, quantity: int(2, 3) }, ...small().slice(0, 1)], { action });
    } else if (r < 97) {
      op = order('order-early-cancel', small(), { action: 'cancel-early' });
    } else {
      op = order('order-mismatch', small(), {});
      op.body.paymentAccountId = pick(s.eur);
      op.expect422 = 'CurrencyMismatch';
    }
    op.n = n;
    op.key = `chaos-${this.runId}-${n}`;
    op.dup = chance(0.1);
    op.lateDup = !op.dup && chance(0.05);
    op.wait = op.action ? 0 : chance(0.75) ? 10 : 0;
    return op;
  }

  post(op) {
    this.stats.ops++;
    const headers = { 'idempotency-key': op.key, 'x-request-id': `chaos-${op.n}-${randomUUID().slice(0, 8)}` };
    if (op.wait) headers.prefer = `wait=${op.wait}`;
    return this.api.untilAnswered('POST', op.path, { body: op.body, headers, route: `POST ${op.path}`, startsFlow: true });
  }

  async runOp(op) {
    this.stats.byKind[op.kind] = (this.stats.byKind[op.kind] ?? 0) + 1;
    if (op.dup) this.stats.duplicatesSent++;
    const answers = op.dup ? await Promise.all([this.post(op), this.post(op)]) : [await this.post(op)];
    if (op.expect422) {
      this.stats.rejected422++;
      for (const a of answers) {
        if (a.status !== 422 || a.body?.data?.reason !== op.expect422) {
          this.rec.violation('expected-rejection', { kind: op.kind, status: a.status, code: a.body?.code, data: a.body?.data });
        }
      }
      return;
    }
    const ok = answers.filter((a) => a.status === 200 || a.status === 202);
    for (const a of answers) {
      if (a.status !== 200 && a.status !== 202) this.rec.violation('post-not-accepted', { kind: op.kind, status: a.status, code: a.body?.code, message: a.body?.message, attempts: a.attempts });
    }
    if (!ok.length) return;
    const ids = [...new Set(ok.map((a) => a.body?.data?.id))];
    if (ids.length !== 1 || !ids[0]) this.rec.violation('idempotency', { kind: op.kind, key: op.key, ids });
    else if (ok.length === 2) this.stats.duplicatesMatched++;
    const flow = {
      id: ids[0],
      type: op.type,
      kind: op.kind,
      key: op.key,
      action: op.action ?? null,
      body: op.body,
      dup: op.dup,
      postStatuses: answers.map((a) => a.status),
      postAttempts: answers.map((a) => a.attempts),
      acceptedAt: Date.now(),
      status: null,
      reasonCode: null,
      terminalAt: null,
      actionStatus: null,
    };
    this.flows.set(flow.id, flow);
    for (const a of ok) this.observe(flow, a.body.data);
    if (op.action === 'cancel-early') await this.act(flow, 'cancel');
    if (op.action && op.action !== 'cancel-early') {
      const p = this.approvalLifecycle(flow).finally(() => this.lifecycles.delete(p));
      this.lifecycles.add(p);
      return;
    }
    await this.pollUntilTerminal(flow, 60_000);
    if (op.lateDup) {
      this.stats.lateDuplicatesSent++;
      const again = await this.post(op);
      if ((again.status === 200 || again.status === 202) && again.body?.data?.id === flow.id) {
        this.stats.lateDuplicatesMatched++;
      } else if (again.status === 200 || again.status === 202) {
        this.rec.violation('idempotency', { kind: op.kind, key: op.key, ids: [flow.id, again.body?.data?.id], late: true });
      } else if (again.status !== 200 && again.status !== 202) {
        this.rec.violation('post-not-accepted', { kind: op.kind, status: again.status, late: true, message: again.body?.message });
      }
    }
  }

  observe(flow, view) {
    if (!view) return;
    if (view.id !== flow.id) this.rec.violation('wrong-flow-in-answer', { id: flow.id, got: view.id });
    flow.status = view.status;
    flow.reasonCode = view.reasonCode ?? null;
    if (TERMINAL[flow.type].includes(view.status)) flow.terminalAt ??= Date.now();
    if (flow.type === 'order' && view.status === 'CONFIRMED') this.merchants.add(this.seed.merchantOf(flow.id));
  }

  isTerminal(flow) {
    return TERMINAL[flow.type].includes(flow.status);
  }

  async refresh(flow) {
    const path = `/v1/${flow.type}s/${flow.id}`;
    const r = await this.api.untilAnswered('GET', path, { route: `GET /v1/${flow.type}s/:id` }, { deadlineMs: 60_000 });
    if (r.status === 200) this.observe(flow, r.body.data);
    else if (r.status !== 503) this.rec.violation('get-failed', { id: flow.id, kind: flow.kind, status: r.status, message: r.body?.message });
    return r.status;
  }

  /**
   * Polls a flow (GET: a query to a running flow) until `until()` or `maxMs`, every second at first, then less often
   * (up to every 3 s): on a loaded machine slow flows would otherwise add a query load of their own.
   */
  async pollUntilTerminal(flow, maxMs, until = () => this.isTerminal(flow)) {
    const deadline = Date.now() + maxMs;
    let wait = 1_000;
    while (!until() && Date.now() < deadline) {
      await this.refresh(flow);
      if (!until()) await sleep(wait);
      wait = Math.min(wait * 1.5, 3_000);
    }
  }

  /** Approve or cancel; 202 and 409 are both legitimate answers (409: the flow moved on), recorded for the audit. */
  async act(flow, action) {
    const r = await this.api.untilAnswered('POST', `/v1/orders/${flow.id}/${action}`, {
      body: action === 'cancel' ? { reason: `chaos ${flow.kind}` } : undefined,
      route: `POST /v1/orders/:id/${action}`,
    });
    flow.actionStatus = r.status;
    // An earlier attempt answered 503 (or not at all) may still have reached the flow: a 409 then means "already done".
    flow.actionUncertain = r.attempts > 1;
    if (r.status !== 202 && r.status !== 409) this.rec.violation('action-failed', { id: flow.id, action, status: r.status, message: r.body?.message });
    if (r.status === 202) this.observe(flow, r.body.data);
  }

  async approvalLifecycle(flow) {
    await this.pollUntilTerminal(flow, 5 * 60_000, () => this.isTerminal(flow) || flow.status === 'AWAITING_APPROVAL');
    if (flow.status !== 'AWAITING_APPROVAL') return;
    flow.sawAwaitingApproval = true;
    if (flow.action === 'timeout') return;
    // Half the cancels go at once: the AWAITING_APPROVAL bookkeeping step may still be in flight.
    await sleep(flow.action === 'cancel' && chance(0.5) ? 0 : int(0, 2_000));
    await this.act(flow, flow.action);
  }

  /** Polls every flow that is not terminal yet until all are, or `deadline`; returns when that happened (or null). */
  async quiesce(deadline) {
    await Promise.all(this.lifecycles);
    for (;;) {
      const pending = [...this.flows.values()].filter((f) => !this.isTerminal(f));
      if (!pending.length) return Date.now();
      if (Date.now() > deadline) return null;
      for (let i = 0; i < pending.length; i += 8) await Promise.all(pending.slice(i, i + 8).map((f) => this.refresh(f)));
      if (pending.some((f) => !this.isTerminal(f))) await sleep(1_000);
    }
  }
}
