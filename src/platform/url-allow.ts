// Outbound calls to URLs an operator names (the SSRF guard of calls into a private network, such as the DTM
// coordinator's branch calls). In production only URLs matching an allow-list pattern: such services usually live on
// private addresses, so the operator names them explicitly (the webhooks' "public addresses only" rule cannot apply);
// nothing matches an empty list. Elsewhere (development, tests) the webhook guard's development policy: http(s), no
// credentials, loopback or public addresses; an allow list, when set, also binds.
import { checkUrl, UnsafeUrlError } from './webhooks/url-guard';

export interface AllowListPolicy {
  production: boolean;
  allow: readonly string[];
}

/** `*` matches within one part: in scheme/host/port it stops at `/`, in the path it matches any run. */
export function patternRegex(pattern: string): RegExp {
  const m = pattern.match(/^([a-z][a-z0-9+.-]*:\/\/[^/]*)(\/.*)?$/i);
  if (!m) throw new Error(`${pattern} is not a URL pattern (scheme://host[:port][/path])`);
  const quote = (s: string, star: string) => s.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join(star);
  const origin = quote(m[1].toLowerCase(), '[^/]*');
  const path = m[2] === undefined ? '(/.*)?' : quote(m[2], '.*');
  return new RegExp(`^${origin}${path}$`);
}

export function allowedByList(url: URL, allow: readonly string[]): boolean {
  const candidate = `${url.protocol}//${url.host}${url.pathname}`;
  return allow.some((p) => patternRegex(p).test(candidate));
}

/** Throws UnsafeUrlError (with a reason the client can act on) unless the policy allows calling `raw`. */
export async function checkAllowedUrl(raw: string, policy: AllowListPolicy): Promise<URL> {
  let url: URL;
  if (policy.production) {
    try {
      url = new URL(raw);
    } catch {
      throw new UnsafeUrlError('not a valid absolute URL');
    }
    if (!['http:', 'https:'].includes(url.protocol)) throw new UnsafeUrlError('must be an http or https URL');
    if (url.username || url.password) throw new UnsafeUrlError('must not carry credentials');
  } else {
    url = await checkUrl(raw, { production: false });
  }
  if ((policy.production || policy.allow.length) && !allowedByList(url, policy.allow)) {
    throw new UnsafeUrlError(`${url.host}${url.pathname} is not in the allow list (DTM_BRANCH_URL_ALLOW)`);
  }
  return url;
}

export { UnsafeUrlError };
