// API-key auth: `Authorization: Bearer <secret>`, keys from the request's configuration snapshot (API_KEYS changes
// live), compared in constant time. A key entry is `id:secret` — the principal is `key:<id>`, so two entries with one id
// (a secret being rotated) are one principal and keep its webhooks and idempotency keys — or a bare secret, whose
// principal is `key:<first 12 hex of its SHA-256>` (as before ids existed; give it that id to keep its data when moving
// to `id:secret`). With no keys configured (development only; production refuses to start) the API is open and the
// caller is "anonymous".
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../platform/http/deps';
import { ApiError, Codes } from '../../platform/http/envelope';

const digest = (s: string) => createHash('sha256').update(s).digest();
const KEY_ENTRY = /^([A-Za-z0-9_.-]{1,60}):(.+)$/;

export interface ApiKey {
  principal: string;
  secret: string;
}

/** The configured entries as principals and secrets. */
export function apiKeysOf(entries: readonly string[]): ApiKey[] {
  return entries.map((entry) => {
    const m = entry.match(KEY_ENTRY);
    return m ? { principal: `key:${m[1]}`, secret: m[2] } : { principal: `key:${digest(entry).toString('hex').slice(0, 12)}`, secret: entry };
  });
}

interface KeyDigest {
  principal: string;
  digest: Buffer;
}

// Snapshots are frozen: one digest list per key list, computed once.
const digestsOf = new WeakMap<readonly string[], KeyDigest[]>();
function digests(entries: readonly string[]): KeyDigest[] {
  let d = digestsOf.get(entries);
  if (!d) digestsOf.set(entries, (d = apiKeysOf(entries).map((k) => ({ principal: k.principal, digest: digest(k.secret) }))));
  return d;
}

/** The principal whose key `presented` is, or undefined; every key is compared so the time taken says nothing. */
export function principalOf(keys: readonly KeyDigest[], presented: string | undefined): string | undefined {
  const d = presented ? digest(presented) : null;
  let principal: string | undefined;
  for (const k of keys) if (d && timingSafeEqual(d, k.digest)) principal = k.principal;
  return principal;
}

/** Keys from the request's snapshot (c.get('config')), or the fixed `entries` given (routes mounted before it, tests). */
export function apiKeyAuth(entries?: readonly string[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const keys = digests(entries ?? c.get('config').api.keys);
    if (keys.length === 0) {
      c.set('principal', 'anonymous');
      return next();
    }
    const m = (c.req.header('authorization') ?? '').match(/^Bearer\s+(\S+)$/i);
    const principal = principalOf(keys, m?.[1]);
    if (!principal) {
      throw new ApiError(Codes.unauthorized, 'missing or invalid API key', null, { 'WWW-Authenticate': 'Bearer' });
    }
    c.set('principal', principal);
    return next();
  };
}

/**
 * Lets operators only through (after apiKeyAuth): the principals of API_OPERATOR_IDS, or every keyed principal when
 * none is named; never "anonymous" — operators' data needs a key even where the rest of the API runs open.
 */
export function operatorsOnly(operators: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const principal = c.get('principal') as string | undefined;
    if (!principal || principal === 'anonymous') {
      throw new ApiError(Codes.unauthorized, 'an API key is required for operations routes (set API_KEYS)', null, { 'WWW-Authenticate': 'Bearer' });
    }
    if (operators.length > 0 && !operators.includes(principal)) throw new ApiError(Codes.forbidden, 'this key is not an operator key (API_OPERATOR_IDS)');
    return next();
  };
}
