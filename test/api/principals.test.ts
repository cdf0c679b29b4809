// Who may see what through the API: a principal is a key id, so rotating its secret keeps its webhooks and its
// idempotency keys; webhooks, deliveries and dead letters are read only by the principal they belong to (dead letters:
// operators); webhook secrets are stored sealed (rows written before are sealed at start); /metrics needs an
// operator's key in production.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { Keyring, openText } from '../../src/platform/codec/keyring';
import { exec, select } from '../../src/platform/db/sql';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import { sealSecrets } from '../../src/platform/webhooks/store';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { uid } from '../helpers/env';

describe('principals and secrets', () => {
  let api: ApiEnv;
  beforeAll(async () => {
    api = await createApiEnv({}, { worker: false });
  });
  afterAll(() => api?.close());

  /** An API over the same databases and Temporal with its own keys (as after a configuration change). */
  function appWith(env: Record<string, string>) {
    const config = loadConfig({ ...process.env, API_DATABASE_URL: api.config.db.urls.api, ...env });
    const app = createApp({ config, stores: api.stores, temporal: api.env.client, log: logger(config), metrics: createMetrics() });
    return async (method: string, path: string, secret?: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await app.request(path, {
        method,
        headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json().catch(() => null)) as any };
    };
  }
  const hook = { url: 'http://127.0.0.1:9/hooks', events: ['order.confirmed'] };

  it("when a key's secret is rotated under the same id, then its webhooks and idempotency keys stay its own", async () => {
    const before = appWith({ API_KEYS: 'acme:acme-old-secret' });
    const created = await before('POST', '/v1/webhooks', 'acme-old-secret', hook);
    expect(created.status).toBe(201);
    const [a, b] = [
      (await before('POST', '/v1/accounts', 'acme-old-secret', { owner: 'rot-a', currency: 'USD', initialBalance: 1_000 })).json.data.id,
      (await before('POST', '/v1/accounts', 'acme-old-secret', { owner: 'rot-b', currency: 'USD', initialBalance: 0 })).json.data.id,
    ];
    const key = uid('idem-');
    const transfer = { fromAccountId: a, toAccountId: b, amount: 10, currency: 'USD' };
    const first = await before('POST', '/v1/transfers', 'acme-old-secret', transfer, { 'idempotency-key': key });
    expect(first.status).toBe(202);

    // The new secret is deployed beside the old one, then alone: one principal throughout.
    for (const keys of ['acme:acme-new-secret,acme:acme-old-secret', 'acme:acme-new-secret']) {
      const after = appWith({ API_KEYS: keys });
      expect((await after('GET', `/v1/webhooks/${created.json.data.id}`, 'acme-new-secret')).status).toBe(200);
      const again = await after('POST', '/v1/transfers', 'acme-new-secret', transfer, { 'idempotency-key': key });
      expect(again.json.data.id).toBe(first.json.data.id);
    }
    expect((await appWith({ API_KEYS: 'acme:acme-new-secret' })('GET', `/v1/webhooks/${created.json.data.id}`, 'acme-old-secret')).status).toBe(401);
  });

  it("when another principal reads a webhook, its deliveries or the dead letters, then it finds nothing or is refused", async () => {
    const call = appWith({ API_KEYS: 'acme:acme-secret,other:other-secret,ops:ops-secret', API_OPERATOR_IDS: 'ops' });
    const created = await call('POST', '/v1/webhooks', 'acme-secret', hook);
    const id = created.json.data.id;
    expect((await call('GET', `/v1/webhooks/${id}`, 'acme-secret')).status).toBe(200);
    expect((await call('GET', `/v1/webhooks/${id}`, 'other-secret')).status).toBe(404);
    expect((await call('GET', `/v1/webhooks/${id}/deliveries`, 'other-secret')).status).toBe(404);
    expect((await call('DELETE', `/v1/webhooks/${id}`, 'other-secret')).status).toBe(404);
    expect((await call('GET', '/v1/ops/dead-letters', 'acme-secret')).status).toBe(403);
    expect((await call('GET', '/v1/ops/dead-letters', 'ops-secret')).status).toBe(200);
  });

  it('when a webhook is registered, then its secret is stored sealed, and a secret stored in clear before is sealed at start', async () => {
    const keys = loadConfig(process.env).codec.keys;
    const keyring = new Keyring(keys);
    const call = appWith({ API_KEYS: 'acme:acme-secret' });
    const created = await call('POST', '/v1/webhooks', 'acme-secret', hook);
    const db = api.stores.db('api');
    const [row] = await select<{ secret: string }>(db, 'SELECT secret FROM webhooks WHERE id = ?', [created.json.data.id]);
    expect(row.secret).toMatch(/^enc:v1:/);
    expect(row.secret).not.toContain(created.json.data.secret);
    expect(openText(keyring, row.secret)).toBe(created.json.data.secret);

    const legacy = { id: crypto.randomUUID(), secret: `whsec_${uid()}` };
    await exec(db, "INSERT INTO webhooks (id, principal, url, events, description, secret, created_at) VALUES (?, 'key:acme', ?, '[]', NULL, ?, NOW(3))", [
      legacy.id,
      hook.url,
      legacy.secret,
    ]);
    expect(await sealSecrets(db, keyring)).toBeGreaterThanOrEqual(1);
    const [after] = await select<{ secret: string }>(db, 'SELECT secret FROM webhooks WHERE id = ?', [legacy.id]);
    expect(after.secret).toMatch(/^enc:v1:/);
    expect(openText(keyring, after.secret)).toBe(legacy.secret);
    expect(await sealSecrets(db, keyring)).toBe(0);
  });

  it('when /metrics is read in production, then only an operator key reads it; in development it is open', async () => {
    const prod = appWith({ NODE_ENV: 'production', API_KEYS: 'ops:ops-secret,acme:acme-secret', API_OPERATOR_IDS: 'ops' });
    expect((await prod('GET', '/metrics')).status).toBe(401);
    expect((await prod('GET', '/metrics', 'acme-secret')).status).toBe(403);
    const res = await createApp({ config: loadConfig({ ...process.env, NODE_ENV: 'production', API_KEYS: 'ops:ops-secret' }), stores: api.stores, temporal: api.env.client, log: logger(api.config), metrics: createMetrics() }).request(
      '/metrics',
      { headers: { authorization: 'Bearer ops-secret' } },
    );
    expect(res.status).toBe(200);
    expect((await appWith({ NODE_ENV: 'development' })('GET', '/metrics')).status).toBe(200);
  });
});
