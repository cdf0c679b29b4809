// The SSRF guard for webhook URLs. Production accepts only https URLs whose host resolves to public unicast addresses
// only (never private, loopback, link-local, CGNAT, unique-local, multicast or reserved); development and tests also
// accept http and loopback. The host is resolved at registration and again at every delivery, through the request's
// own lookup, so a name that later resolves to a private address (DNS rebinding) is refused before any connection.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';

export interface UrlPolicy {
  /** production: https only, public addresses only. */
  production: boolean;
  /** Hosts allowed (`example.com`, `*.example.com` for its subdomains); empty or absent: any host. */
  allowHosts?: readonly string[];
}

/** Whether `host` is on an allow-list (case-insensitive; `*.example.com` matches subdomains, not example.com itself). */
export function hostOnAllowList(host: string, allow: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allow.some((a) => {
    const entry = a.toLowerCase();
    return entry.startsWith('*.') ? h.endsWith(entry.slice(1)) && h.length > entry.length - 1 : h === entry;
  });
}

export class UnsafeUrlError extends Error {}

export function addressAllowed(address: string, policy: UrlPolicy): boolean {
  if (!ipaddr.isValid(address)) return false;
  const range = ipaddr.process(address).range();
  return range === 'unicast' || (!policy.production && range === 'loopback');
}

/** Checks the URL's form (scheme, no credentials). Throws UnsafeUrlError with a reason a client can act on. */
export function checkUrlForm(raw: string, policy: UrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('not a valid absolute URL');
  }
  const schemes = policy.production ? ['https:'] : ['https:', 'http:'];
  if (!schemes.includes(url.protocol)) throw new UnsafeUrlError(policy.production ? 'must be an https URL' : 'must be an http or https URL');
  if (url.username || url.password) throw new UnsafeUrlError('must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (policy.allowHosts?.length && !hostOnAllowList(host, policy.allowHosts)) throw new UnsafeUrlError(`host ${host} is not on the allow-list`);
  return url;
}

const lookupAll = promisify(dnsLookup);

/** Resolves the host (all its addresses) and refuses the URL unless every one is allowed. */
export async function checkUrl(raw: string, policy: UrlPolicy): Promise<URL> {
  const url = checkUrlForm(raw, policy);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  try {
    addresses = ipaddr.isValid(host) ? [{ address: host, family: host.includes(':') ? 6 : 4 }] : await lookupAll(host, { all: true });
  } catch {
    throw new UnsafeUrlError(`host ${host} does not resolve`);
  }
  const refused = addresses.find((a) => !addressAllowed(a.address, policy));
  if (!addresses.length || refused) throw new UnsafeUrlError(`host ${host} resolves to a non-public address${policy.production ? '' : ' (only public and loopback addresses are allowed)'}`);
  return url;
}

/** A `lookup` for http(s).request that refuses disallowed addresses at connection time. */
export function guardedLookup(policy: UrlPolicy) {
  return (hostname: string, options: object, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !addressAllowed(a.address, policy));
      if (!list.length || bad) return callback(new UnsafeUrlError(`${hostname} resolves to a non-public address`), '', 4);
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}
