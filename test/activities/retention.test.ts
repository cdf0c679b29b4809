// The retention purges (src/platform/retention.ts) against the real databases: barrier rows older than the retention go
// from every domain store (each has its own `barriers` table), expired idempotency keys go from the API's store;
// everything younger stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { allStores } from '../../src/migrate';
import { select } from '../../src/platform/db/sql';
import { purgeExpiredBarriers, purgeExpiredIdempotencyKeys } from '../../src/platform/retention';
import { openStores, type OpenStore, type Stores } from '../../src/platform/stores';
import { uid } from '../helpers/env';

const day = 86_400_000;
const retention: Config['retention'] = { barrierDays: 7, idempotencyHours: 24, intervalMs: 1000 };
/** These tests are about age: their flows are made-up ids that no Temporal run has (test/activities/
 * retention-running-flows.test.ts asks the real Temporal which flows still run). */
const noneRunning = async () => new Set<string>();

describe('retention', () => {
  let stores: Stores;
  beforeAll(() => {
    const config = loadConfig();
    stores = openStores(allStores(config), config.db.pool);
  });
  afterAll(() => stores?.close());

  const serviceStores = () => stores.list.filter((s) => s.domain !== 'api');

  /** One barrier row per branch of `flow`, backdated by `ageMs` from `now`. */
  async function insertBarriers(store: OpenStore, flow: string, now: Date, rows: Array<[branch: string, ageMs: number]>) {
    for (const [branch, age] of rows) {
      await store.db.query(`INSERT INTO barriers (flow_id, branch_id, op, reason, created_at) VALUES (?, ?, 'action', 'action', ?)`, {
        replacements: [flow, branch, new Date(now.getTime() - age)],
      });
    }
  }

  const branchesOf = (store: OpenStore, flow: string) =>
    select<{ branch_id: string }>(store.db, 'SELECT branch_id FROM barriers WHERE flow_id = ? ORDER BY branch_id', [flow]).then((rows) =>
      rows.map((r) => r.branch_id),
    );

  it('when barrier rows of a store outlive the retention, then they are purged and younger rows are kept', async () => {
    const store = stores.of('orders')[0];
    const flow = uid('flow-');
    const now = new Date(); // other tests' rows are fresh: only this test's backdated rows are old enough to go
    await insertBarriers(store, flow, now, [
      ['old', 8 * day],
      ['just-inside', 7 * day - 60_000],
      ['fresh', 1 * day],
    ]);
    const purged = await purgeExpiredBarriers(store.db, retention, noneRunning, now);
    expect(purged.barriers).toBeGreaterThanOrEqual(1);
    expect(await branchesOf(store, flow)).toEqual(['fresh', 'just-inside']);
  });

  it('when the purge runs on each domain store, then old barrier rows go from EVERY store (each ledger shard included) and fresh ones stay', async () => {
    const services = serviceStores();
    // Every domain, and every shard of the ledger, is a store of its own here.
    expect(new Set(services.map((s) => s.domain))).toEqual(new Set(['ledger', 'inventory', 'orders', 'loyalty', 'dtm']));
    expect(stores.of('ledger').length).toBeGreaterThanOrEqual(2);
    const flow = uid('flow-');
    const now = new Date();
    for (const store of services) await insertBarriers(store, flow, now, [['old', 30 * day], ['fresh', 60_000]]);

    const purged = await Promise.all(services.map((store) => purgeExpiredBarriers(store.db, retention, noneRunning, now)));
    for (const [i, store] of services.entries()) {
      expect(purged[i].barriers, store.unit).toBeGreaterThanOrEqual(1);
      expect(await branchesOf(store, flow), store.unit).toEqual(['fresh']);
    }
  });

  it('when a store is purged, then the barrier rows of the other stores are left alone', async () => {
    const [target, ...others] = serviceStores();
    const flow = uid('flow-');
    const now = new Date();
    for (const store of [target, ...others]) await insertBarriers(store, flow, now, [['old', 30 * day]]);
    await purgeExpiredBarriers(target.db, retention, noneRunning, now);
    expect(await branchesOf(target, flow)).toEqual([]);
    for (const store of others) expect(await branchesOf(store, flow), store.unit).toEqual(['old']);
    // Clean up what this test left behind (the purge of each store would, too).
    for (const store of others) await purgeExpiredBarriers(store.db, retention, noneRunning, now);
  });

  it('when idempotency keys in the API store have expired, then they are purged and live keys are kept', async () => {
    const api = stores.db('api');
    const now = new Date();
    const principal = uid('p-');
    for (const [key, expires] of [
      ['expired', now.getTime() - 1000],
      ['live', now.getTime() + 3_600_000],
    ] as const) {
      await api.query(
        `INSERT INTO idempotency_keys (principal, idem_key, request_hash, resource, flow_id, created_at, expires_at) VALUES (?, ?, 'h', 'transfer', 'f', ?, ?)`,
        { replacements: [principal, key, new Date(expires - day), new Date(expires)] },
      );
    }
    const purged = await purgeExpiredIdempotencyKeys(api, now);
    expect(purged.idempotencyKeys).toBeGreaterThanOrEqual(1);
    expect(await select(api, 'SELECT idem_key FROM idempotency_keys WHERE principal = ?', [principal])).toEqual([{ idem_key: 'live' }]);
  });
});
