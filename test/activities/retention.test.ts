// The retention job: barrier rows older than the retention and expired idempotency keys go; everything else stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createSequelize, type Db } from '../../src/db/sequelize';
import { select } from '../../src/db/sql';
import { purgeExpired } from '../../src/jobs/retention';
import { uid } from '../helpers/env';

describe('retention job', () => {
  let db: Db;
  beforeAll(() => {
    db = createSequelize(loadConfig().db);
  });
  afterAll(() => db?.close());

  it('when rows outlive their retention, then they are purged and fresh rows are kept', async () => {
    const flow = uid('flow-');
    const now = new Date(); // other tests' rows are fresh: only this test's backdated rows are old enough to go
    const day = 86_400_000;
    for (const [branch, age] of [['old', 8 * day], ['fresh', 1 * day]] as const) {
      await db.query(`INSERT INTO barriers (flow_id, branch_id, op, reason, created_at) VALUES (?, ?, 'action', 'action', ?)`, {
        replacements: [flow, branch, new Date(now.getTime() - age)],
      });
    }
    const principal = uid('p-');
    for (const [key, expires] of [['expired', now.getTime() - 1000], ['live', now.getTime() + 3_600_000]] as const) {
      await db.query(
        `INSERT INTO idempotency_keys (principal, idem_key, request_hash, resource, flow_id, created_at, expires_at) VALUES (?, ?, 'h', 'transfer', 'f', ?, ?)`,
        { replacements: [principal, key, new Date(expires - day), new Date(expires)] },
      );
    }
    const purged = await purgeExpired(db, { barrierDays: 7, idempotencyHours: 24, intervalMs: 1000 }, now);
    expect(purged.barriers).toBeGreaterThanOrEqual(1);
    expect(purged.idempotencyKeys).toBeGreaterThanOrEqual(1);
    expect(await select(db, 'SELECT branch_id FROM barriers WHERE flow_id = ?', [flow])).toEqual([{ branch_id: 'fresh' }]);
    expect(await select(db, 'SELECT idem_key FROM idempotency_keys WHERE principal = ?', [principal])).toEqual([{ idem_key: 'live' }]);
  });
});
