// Pure logic: request hashing for idempotency, money formatting, the token bucket, and the ledger's shard rule.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { rateLimit } from '../../src/api/middleware/rate-limit';
import { fnv1a32, shardOf } from '../../src/activities/ledger/contract';
import { idOnShard } from '../../src/activities/ledger/reads';
import { isTransientDbError } from '../../src/platform/db/transient';
import { ApiError } from '../../src/platform/http/envelope';
import { DatabaseError } from 'sequelize';
import { canonicalJson } from '../../src/platform/http/idempotency';
import { currencyExponent, money } from '../../src/platform/money';

describe('canonicalJson', () => {
  it('when keys come in another order, then the text is the same; when a value differs, it is not', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1, 2] }, b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });
});

describe('money', () => {
  it('when the currency has 2 decimals (USD, EUR, unlisted codes), then minor units print with two', () => {
    expect(money(2500, 'USD')).toBe('25.00 USD');
    expect(money(5, 'EUR')).toBe('0.05 EUR');
    expect(money(0, 'USD')).toBe('0.00 USD');
    expect(money(123, 'XYZ')).toBe('1.23 XYZ');
    expect(currencyExponent('XYZ')).toBe(2);
  });

  it('when the currency has no decimals (JPY), then the amount prints as is', () => {
    expect(currencyExponent('JPY')).toBe(0);
    expect(money(2500, 'JPY')).toBe('2500 JPY');
    expect(money(0, 'JPY')).toBe('0 JPY');
  });

  it('when the currency has 3 decimals (BHD), then minor units print with three', () => {
    expect(currencyExponent('BHD')).toBe(3);
    expect(money(2500, 'BHD')).toBe('2.500 BHD');
    expect(money(7, 'BHD')).toBe('0.007 BHD');
  });

  it('when the amount is negative, then the sign leads and the digits are those of the absolute value', () => {
    expect(money(-1234, 'USD')).toBe('-12.34 USD');
    expect(money(-5, 'USD')).toBe('-0.05 USD');
    expect(money(-42, 'JPY')).toBe('-42 JPY');
    expect(money(-1, 'BHD')).toBe('-0.001 BHD');
  });

  it('when the amount is a BigInt beyond 2^53, then it is exact (no floating point)', () => {
    expect(money(123_456_789_012_345_678_901n, 'USD')).toBe('1234567890123456789.01 USD');
    expect(money(-9_007_199_254_740_993n, 'JPY')).toBe('-9007199254740993 JPY');
    expect(money(1_000_000_000_000_001n, 'BHD')).toBe('1000000000000.001 BHD');
    expect(money(2500n, 'USD')).toBe(money(2500, 'USD'));
  });
});

describe('rateLimit', () => {
  it('when the bucket is empty, then it refuses with Retry-After; when time passes, it refills', async () => {
    let now = 0;
    const app = new Hono();
    app.use(rateLimit({ perSecond: 1, burst: 2 }, () => now));
    app.get('/', (c) => c.text('ok'));
    app.onError((err, c) => c.text(String((err as ApiError).code), 429, (err as ApiError).headers));
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/')).status).toBe(200);
    const limited = await app.request('/');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    now += 1_000;
    expect((await app.request('/')).status).toBe(200);
  });
});

describe('shardOf', () => {
  it('is FNV-1a 32 over the id: the published test vectors hold', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('when asked twice, or with one shard, then the answer is the same', () => {
    for (const id of ['acc-1', 'demo-alice', 'merchant-USD', 'x'.repeat(64)]) {
      expect(shardOf(id, 2)).toBe(shardOf(id, 2));
      expect(shardOf(id, 7)).toBe(shardOf(id, 7));
      expect(shardOf(id, 1)).toBe(0);
    }
  });

  it('when the demo and seeded ids are placed on 2 shards, then they land where installs already put them', () => {
    // Pinned: changing the rule would strand existing rows on the wrong shard.
    expect(shardOf('demo-alice', 2)).toBe(1);
    expect(shardOf('demo-bob', 2)).toBe(0);
    expect(shardOf('merchant-USD', 2)).toBe(0);
    expect(shardOf('merchant-EUR', 2)).toBe(0);
    expect(shardOf('acc-1', 2)).toBe(0);
    expect(shardOf('acc-2', 2)).toBe(1);
    expect(shardOf('demo-alice', 4)).toBe(3);
    expect(shardOf('demo-bob', 4)).toBe(0);
  });

  it('when many ids are placed, then every shard gets a fair share and each answer is in range', () => {
    for (const shards of [2, 3, 8]) {
      const counts = new Array<number>(shards).fill(0);
      const n = 8_000;
      for (let i = 0; i < n; i++) {
        const s = shardOf(`acc-${i}`, shards);
        expect(Number.isInteger(s) && s >= 0 && s < shards).toBe(true);
        counts[s]++;
      }
      for (const c of counts) expect(Math.abs(c - n / shards)).toBeLessThan((n / shards) * 0.15);
    }
  });

  it('when an id is drawn for a shard, then it maps to that shard', () => {
    for (const shard of [0, 1, 2]) {
      for (let i = 0; i < 20; i++) expect(shardOf(idOnShard(shard, 3, 't-'), 3)).toBe(shard);
    }
  });
});

describe('isTransientDbError', () => {
  const driverError = (message: string, props: Record<string, unknown>) => Object.assign(new Error(message), { sql: 'SELECT 1', ...props });

  it('when the server ends a connection mid-query, then the error is transient (503 to callers, retried by consumers)', () => {
    const ended = driverError('This socket has been ended by the other party', { code: 'EPIPE', fatal: true });
    expect(isTransientDbError(new DatabaseError(ended as never))).toBe(true);
    expect(isTransientDbError(new DatabaseError(driverError('gone', { code: 'SOMETHING_NEW', fatal: true }) as never))).toBe(true);
    expect(isTransientDbError(new DatabaseError(driverError('deadlock', { code: 'ER_LOCK_DEADLOCK' }) as never))).toBe(true);
  });

  it('when a statement itself is wrong, then the error is not transient', () => {
    expect(isTransientDbError(new DatabaseError(driverError('syntax', { code: 'ER_PARSE_ERROR' }) as never))).toBe(false);
    expect(isTransientDbError(new Error('not a database error'))).toBe(false);
  });
});
