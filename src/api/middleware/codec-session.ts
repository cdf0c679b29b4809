// The codec endpoints' browser session: the Web UI can send no bearer key, only cookies ("include cross-origin
// credentials"), so an operator signs in once at /codec/session with an API key and gets an HttpOnly, SameSite=Strict
// cookie scoped to /codec, valid for CODEC_SESSION_HOURS. The cookie names the principal and its expiry and is signed
// with a key derived from that principal's API secret: rotating or removing the secret ends its sessions, and the
// cookie holds nothing an API call would accept.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { ApiError, Codes } from '../../platform/http/envelope';
import { apiKeysOf, principalOf, type ApiKey } from './auth';

export const SESSION_COOKIE = 'sagaflow_codec';
const SESSION_MS = 8 * 3600_000;

const mac = (secret: string, body: string) =>
  createHmac('sha256', createHash('sha256').update(`sagaflow-codec-session\0${secret}`).digest()).update(body).digest('base64url');

export function issueSession(key: ApiKey, now = Date.now()): string {
  const body = `${Buffer.from(key.principal).toString('base64url')}.${now + SESSION_MS}`;
  return `${body}.${mac(key.secret, body)}`;
}

/** The principal a session cookie names, when its signature holds under one of that principal's secrets and it is current. */
export function verifySession(keys: readonly ApiKey[], token: string | undefined, now = Date.now()): string | undefined {
  const [p, exp, sig] = (token ?? '').split('.');
  if (!p || !exp || !sig || !(Number(exp) > now)) return undefined;
  const principal = Buffer.from(p, 'base64url').toString();
  const presented = Buffer.from(sig);
  let found: string | undefined;
  for (const k of keys) {
    const expected = Buffer.from(mac(k.secret, `${p}.${exp}`));
    if (k.principal === principal && expected.length === presented.length && timingSafeEqual(expected, presented)) found = principal;
  }
  return found;
}

/** Bearer key or session cookie; open (anonymous) only where the API itself is open (no API_KEYS, development). */
export function codecAuth(entries: readonly string[]): MiddlewareHandler {
  const keys = apiKeysOf(entries);
  const digests = keys.map((k) => ({ principal: k.principal, digest: createHash('sha256').update(k.secret).digest() }));
  return async (c, next) => {
    if (keys.length === 0) {
      c.set('principal', 'anonymous');
      return next();
    }
    const bearer = (c.req.header('authorization') ?? '').match(/^Bearer\s+(\S+)$/i)?.[1];
    const principal = bearer ? principalOf(digests, bearer) : verifySession(keys, getCookie(c, SESSION_COOKIE));
    if (!principal) throw new ApiError(Codes.unauthorized, 'missing or invalid API key or codec session', null, { 'WWW-Authenticate': 'Bearer' });
    c.set('principal', principal);
    return next();
  };
}

/** Signs an operator in: the key from a bearer header or the form's `key` field; sets the session cookie. */
export function signIn(entries: readonly string[], secure: boolean): MiddlewareHandler {
  const keys = apiKeysOf(entries);
  return async (c) => {
    const form = c.req.header('content-type')?.includes('form') ? await c.req.parseBody() : {};
    const presented = (c.req.header('authorization') ?? '').match(/^Bearer\s+(\S+)$/i)?.[1] ?? String(form.key ?? '');
    const digest = createHash('sha256').update(presented).digest();
    const key = keys.find((k) => timingSafeEqual(createHash('sha256').update(k.secret).digest(), digest));
    if (!presented || !key) throw new ApiError(Codes.unauthorized, 'invalid API key', null, { 'WWW-Authenticate': 'Bearer' });
    setCookie(c, SESSION_COOKIE, issueSession(key), { httpOnly: true, sameSite: 'Strict', path: '/codec', maxAge: SESSION_MS / 1000, secure });
    return c.html('<!doctype html><title>sagaflow codec</title><p>Signed in to the codec endpoints. Open the Temporal Web UI.</p>');
  };
}

// The API's Referrer-Policy (no-referrer) would make the form's POST carry `Origin: null`; the page relaxes it to
// same-origin so the codec's origin check sees where the form came from.
export const signInForm =
  '<!doctype html><meta name="referrer" content="same-origin"><title>sagaflow codec sign-in</title><form method="post" action="session">' +
  '<label>API key <input name="key" type="password" autocomplete="off" required></label> <button type="submit">Sign in</button></form>';
