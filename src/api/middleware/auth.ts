// API-key auth: `Authorization: Bearer <key>`, keys from the request's configuration snapshot (API_KEYS changes live),
// compared in constant time. With no keys configured (development only; production refuses to start) the API is open
// and the caller is "anonymous".
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../platform/http/deps';
import { ApiError, Codes } from '../../platform/http/envelope';

const digest = (s: string) => createHash('sha256').update(s).digest();

interface KeyDigest {
  digest: Buffer;
  principal: string;
}

// Snapshots are frozen: one digest list per key list, computed once.
const digestsOf = new WeakMap<readonly string[], KeyDigest[]>();
function digests(keys: readonly string[]): KeyDigest[] {
  let d = digestsOf.get(keys);
  if (!d) digestsOf.set(keys, (d = keys.map((k) => ({ digest: digest(k), principal: `key:${digest(k).toString('hex').slice(0, 12)}` }))));
  return d;
}

/** Keys from the request's snapshot (c.get('config')), or the fixed `keys` given (tests of the middleware alone). */
export function apiKeyAuth(keys?: readonly string[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const known = digests(keys ?? c.get('config').api.keys);
    if (known.length === 0) {
      c.set('principal', 'anonymous');
      return next();
    }
    const header = c.req.header('authorization') ?? '';
    const m = header.match(/^Bearer\s+(\S+)$/i);
    const presented = m ? digest(m[1]) : null;
    // Compare against every key so the time taken does not say which one matched.
    let principal: string | undefined;
    for (const k of known) if (presented && timingSafeEqual(presented, k.digest)) principal = k.principal;
    if (!principal) {
      throw new ApiError(Codes.unauthorized, 'missing or invalid API key', null, { 'WWW-Authenticate': 'Bearer' });
    }
    c.set('principal', principal);
    return next();
  };
}
