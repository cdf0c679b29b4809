// API-key auth: `Authorization: Bearer <key>`, keys from configuration, compared in constant time. With no keys
// configured (development only; production refuses to start) the API is open and the caller is "anonymous".
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError, Codes } from '../../platform/http/envelope';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function apiKeyAuth(keys: readonly string[]): MiddlewareHandler {
  const digests = keys.map((k) => ({ digest: digest(k), principal: `key:${digest(k).toString('hex').slice(0, 12)}` }));
  return async (c, next) => {
    if (digests.length === 0) {
      c.set('principal', 'anonymous');
      return next();
    }
    const header = c.req.header('authorization') ?? '';
    const m = header.match(/^Bearer\s+(\S+)$/i);
    const presented = m ? digest(m[1]) : null;
    // Compare against every key so the time taken does not say which one matched.
    let principal: string | undefined;
    for (const k of digests) if (presented && timingSafeEqual(presented, k.digest)) principal = k.principal;
    if (!principal) {
      throw new ApiError(Codes.unauthorized, 'missing or invalid API key', null, { 'WWW-Authenticate': 'Bearer' });
    }
    c.set('principal', principal);
    return next();
  };
}
