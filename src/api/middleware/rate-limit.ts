// Token-bucket rate limit per API key (or client address when the API is open): `burst` tokens, refilled at
// `perSecond`. An empty bucket answers 429/4290 with Retry-After. Buckets idle for a minute are forgotten. The limits
// may be a function of the request (the app reads the request's configuration snapshot: they change live; buckets
// are kept and clamped to a lowered burst).
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { ApiError, Codes } from '../../platform/http/envelope';

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimits {
  perSecond: number;
  burst: number;
}

export function rateLimit(limits: RateLimits | ((c: Context) => RateLimits), now = () => Date.now()): MiddlewareHandler {
  const buckets = new Map<string, Bucket>();
  let lastSweep = now();
  return async (c, next) => {
    const { perSecond, burst } = typeof limits === 'function' ? limits(c) : limits;
    const t = now();
    if (t - lastSweep > 60_000) {
      for (const [k, b] of buckets) if (t - b.at > 60_000) buckets.delete(k);
      lastSweep = t;
    }
    const key = clientKey(c);
    const b = buckets.get(key) ?? { tokens: burst, at: t };
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSecond);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
      throw new ApiError(Codes.rateLimited, 'rate limit exceeded', null, { 'Retry-After': String(retryAfter) });
    }
    b.tokens -= 1;
    return next();
  };
}

function clientKey(c: Parameters<MiddlewareHandler>[0]): string {
  const principal = c.get('principal') as string | undefined;
  if (principal && principal !== 'anonymous') return principal;
  try {
    return `addr:${getConnInfo(c).remote.address ?? 'unknown'}`;
  } catch {
    return 'addr:local'; // app.request() in tests has no socket
  }
}
