// The webhook dispatcher: drives delivery rows (fanout.ts) until each is delivered or failed. Any number of
// dispatchers may run: each claims due rows with `FOR UPDATE SKIP LOCKED` and leases them (next_attempt_at moves past
// the request timeout), so a dispatcher killed mid-request leaves its rows to be retried when the lease ends. A
// delivery is a signed POST with a timeout; a 2xx is delivered; anything else is retried with exponential backoff
// (base · 2^(attempt−1), capped, ±20 % jitter) until `retryForMs` after the event was fanned out, then marked failed.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transaction, type Sequelize } from 'sequelize';
import type { Config } from '../../config';
import { expBackoff } from '../backoff';
import { exec, select } from '../db/sql';
import type { Logger } from '../logger';
import { startLoop, type Loop } from '../loop';
import { signature, SIGNATURE_HEADER } from './signature';
import { valueOf, type Live } from '../config-reload';
import { checkUrlForm, guardedLookup, UnsafeUrlError, type UrlPolicy } from './url-guard';
import type { DeliveryRow } from './store';
import { Keyring, openText } from '../codec/keyring';

export type WebhookSettings = Config['webhooks'];

interface Due extends DeliveryRow {
  url: string;
  secret: string;
}

export interface PostResult {
  status?: number;
  error?: string;
}

/** POSTs `body` to `url` with the signing headers; never throws. */
export function postSigned(url: string, body: string, secret: string, headers: Record<string, string>, timeoutMs: number, policy: UrlPolicy): Promise<PostResult> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = checkUrlForm(url, policy); // the allow-list may have changed since the webhook was registered
    } catch (err) {
      return resolve({ error: err instanceof UnsafeUrlError ? `url ${err.message}` : 'invalid url' });
    }
    const t = Math.floor(Date.now() / 1000);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      u,
      {
        method: 'POST',
        lookup: guardedLookup(policy) as never,
        timeout: timeoutMs,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'sagaflow-webhooks/1',
          [SIGNATURE_HEADER]: signature(secret, t, body),
          ...headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
        res.on('error', () => resolve({ status: res.statusCode }));
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ error: err.message.slice(0, 250) }));
    req.on('close', () => clearTimeout(timer));
    req.end(body);
  });
}

export const backoff = (attempt: number, s: Pick<WebhookSettings, 'backoffBaseMs' | 'backoffMaxMs'>, random = Math.random) =>
  expBackoff(attempt, s.backoffBaseMs, s.backoffMaxMs, random);

/** Claims up to `limit` due deliveries, leasing them for the request timeout plus a margin. */
async function claim(db: Sequelize, limit: number, leaseMs: number): Promise<Due[]> {
  return db.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, async (t) => {
    const rows = await select<Due>(
      db,
      `SELECT d.*, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= NOW(3) ORDER BY d.next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [limit],
      t,
    );
    if (rows.length) {
      await exec(db, 'UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id IN (?)', [new Date(Date.now() + leaseMs), rows.map((r) => r.id)], t);
    }
    return rows;
  });
}

async function deliver(db: Sequelize, d: Due, s: WebhookSettings, policy: UrlPolicy, keyring: Keyring): Promise<'delivered' | 'retry' | 'failed'> {
  const r = await postSigned(d.url, d.payload, openText(keyring, d.secret), { 'Sagaflow-Event-Id': d.event_id, 'Sagaflow-Event-Type': d.type }, s.timeoutMs, policy);
  const attempt = Number(d.attempt) + 1;
  if (r.status && r.status >= 200 && r.status < 300) {
    await exec(
      db,
      `UPDATE webhook_deliveries SET status = 'delivered', attempt = ?, response_status = ?, last_error = NULL, delivered_at = NOW(3), next_attempt_at = NULL WHERE id = ?`,
      [attempt, r.status, d.id],
    );
    return 'delivered';
  }
  const next = Date.now() + backoff(attempt, s);
  const failed = next > new Date(d.created_at).getTime() + s.retryForMs;
  await exec(db, `UPDATE webhook_deliveries SET status = ?, attempt = ?, response_status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?`, [
    failed ? 'failed' : 'pending',
    attempt,
    r.status ?? null,
    r.error ?? (r.status ? `HTTP ${r.status}` : null),
    failed ? null : new Date(next),
    d.id,
  ]);
  return failed ? 'failed' : 'retry';
}

export type Dispatcher = Loop;

/**
 * `settings` and `policy` may be functions: read once per round (the webhook settings and allow-list change live).
 * `keyring` opens the webhooks' sealed secrets (store.ts sealSecrets; the API's PAYLOAD_KEYS).
 */
export function startWebhookDispatcher(db: Sequelize, settings: Live<WebhookSettings>, livePolicy: Live<UrlPolicy>, log: Logger, concurrency = 16, keyring = new Keyring([])): Dispatcher {
  return startLoop(
    async () => {
      const s = valueOf(settings);
      const policy = valueOf(livePolicy);
      const due = await claim(db, concurrency, s.timeoutMs + 30_000);
      const outcomes = await Promise.all(due.map((d) => deliver(db, d, s, policy, keyring)));
      outcomes.forEach((o, i) => o === 'failed' && log.warn({ webhookId: due[i].webhook_id, eventId: due[i].event_id }, 'webhook delivery failed for good'));
      return due.length < concurrency ? 'idle' : 'more';
    },
    { pollMs: valueOf(settings).pollMs, onError: (err) => log.warn({ error: String((err as Error)?.message ?? err) }, 'webhook dispatch failed; retrying') },
  );
}
