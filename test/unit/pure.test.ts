// Pure logic: request hashing for idempotency, money formatting, the token bucket.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/envelope';
import { canonicalJson } from '../../src/api/flows/idempotency';
import { rateLimit } from '../../src/api/middleware/rate-limit';
import { money } from '../../src/shared/money';

describe('canonicalJson', () => {
  it('when keys come in another order, then the text is the same; when a value differs, it is not', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1, 2] }, b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });
});

describe('money', () => {
  it('formats minor units', () => {
    expect(money(2500, 'USD')).toBe('25.00 USD');
    expect(money(5, 'EUR')).toBe('0.05 EUR');
    expect(money(-1234, 'USD')).toBe('-12.34 USD');
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
