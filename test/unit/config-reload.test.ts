// Hot reload's pure logic: which changes may apply live, what a refusal names, the deep freeze of a snapshot, what
// GET /v1/ops/config shows (never a secret), the live holder over a real CONFIG_FILE, the webhook allow-list, limits
// read per request, and the Retry-After of a 503 when a database is down.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import pino from 'pino';
import { DatabaseError } from 'sequelize';
import { errorHandler } from '../../src/api/middleware/errors';
import { rateLimit } from '../../src/api/middleware/rate-limit';
import { describe, expect, it } from 'vitest';
import { assertApiConfig, changedSettings, loadConfig, loadSettings, parseSettings, planReload, settingsEnv } from '../../src/config';
import { createLiveConfig, describeConfig } from '../../src/platform/config-reload';
import { checkUrlForm, hostOnAllowList } from '../../src/platform/webhooks/url-guard';

const silent = pino({ level: 'silent' });

describe('configuration reload plan', () => {
  it('when only live settings change, then the plan applies them and names each', () => {
    const current = parseSettings({ RATE_LIMIT_PER_SECOND: '200', LOG_LEVEL: 'info' });
    const plan = planReload(current, { RATE_LIMIT_PER_SECOND: '5', RATE_LIMIT_BURST: '5', LOG_LEVEL: 'debug', API_KEYS: 'k1' });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.changed).toEqual(['LOG_LEVEL', 'API_KEYS', 'RATE_LIMIT_PER_SECOND', 'RATE_LIMIT_BURST']);
    expect(plan.config.api.rateLimit).toEqual({ perSecond: 5, burst: 5 });
    expect(plan.config.api.keys).toEqual(['k1']);
  });

  it('when a setting that needs a restart changes, then the whole reload is refused and names it', () => {
    const current = parseSettings({ API_PORT: '3000' });
    const plan = planReload(current, { API_PORT: '3001', DB_POOL_MAX: '5', RATE_LIMIT_BURST: '9' });
    expect(plan).toMatchObject({ ok: false, fixed: ['API_PORT', 'DB_POOL_MAX'] });
    expect(!plan.ok && plan.reason).toMatch(/cannot change without a restart: API_PORT, DB_POOL_MAX/);
  });

  it('when the new settings are invalid, then the reload is refused with the validation message', () => {
    const plan = planReload(parseSettings({}), { RATE_LIMIT_PER_SECOND: '-1' });
    expect(plan).toMatchObject({ ok: false, fixed: [] });
    expect(!plan.ok && plan.reason).toMatch(/RATE_LIMIT_PER_SECOND/);
  });

  it('when nothing differs, then no setting is changed', () => {
    expect(changedSettings(parseSettings({ API_KEYS: 'a,b' }), parseSettings({ API_KEYS: 'a, b' }))).toEqual([]);
  });

  it('when a configuration is loaded, then it is frozen all the way down', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.api.rateLimit)).toBe(true);
    expect(Object.isFrozen(c.db.urls.ledger)).toBe(true);
    expect(() => ((c.api.rateLimit as { burst: number }).burst = 1)).toThrow(TypeError);
  });

  it('when CONFIG_FILE is set, then its settings lie over the environment; an unreadable one is a ConfigError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-conf-'));
    const file = join(dir, 'sagaflow.env');
    writeFileSync(file, 'RATE_LIMIT_BURST=7\n# a comment\nLOG_LEVEL=warn\n');
    const env = settingsEnv({ CONFIG_FILE: file, RATE_LIMIT_BURST: '400', API_PORT: '3100' });
    expect(loadSettings(env).config.api).toMatchObject({ rateLimit: { burst: 7 }, port: 3100 });
    expect(() => settingsEnv({ CONFIG_FILE: join(dir, 'missing.env') })).toThrow(/CONFIG_FILE: cannot read/);
  });
});

describe('live configuration', () => {
  // A process's own environment: development unless a test says otherwise, with a payload key (production needs one).
  const base = { NODE_ENV: 'development', PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` };
  function holder(file: string, env: Record<string, string> = {}) {
    const { settings, config } = loadSettings(settingsEnv({ ...base, CONFIG_FILE: file, ...env }));
    return createLiveConfig(settings, config, { readEnv: () => settingsEnv({ ...base, CONFIG_FILE: file, ...env }), log: silent, check: assertApiConfig });
  }

  it('when the file changes to a valid live change, then a new version is active; an invalid file leaves it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sagaflow-conf-')), 'sagaflow.env');
    writeFileSync(file, 'RATE_LIMIT_BURST=50\nAPI_KEYS=secret-one\n');
    const live = holder(file);
    const before = live.current();
    writeFileSync(file, 'RATE_LIMIT_BURST=3\nAPI_KEYS=secret-one,secret-two\n');
    expect(live.reload('test')).toMatchObject({ outcome: 'applied', version: 2, changed: ['API_KEYS', 'RATE_LIMIT_BURST'] });
    expect(before.config.api.rateLimit.burst).toBe(50); // a snapshot taken earlier never changes
    writeFileSync(file, 'RATE_LIMIT_BURST=zero\n');
    expect(live.reload('test')).toMatchObject({ outcome: 'refused', version: 2 });
    writeFileSync(file, 'RATE_LIMIT_BURST=3\nAPI_KEYS=secret-one,secret-two\nAPI_PORT=4000\n');
    expect(live.reload('test')).toMatchObject({ outcome: 'refused', changed: ['API_PORT'] });
    expect(live.current()).toMatchObject({ version: 2, config: { api: { rateLimit: { burst: 3 } } } });
  });

  it('when the API rule fails (production without keys), then the reload is refused', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sagaflow-conf-')), 'sagaflow.env');
    writeFileSync(file, 'API_KEYS=k\n');
    const live = holder(file, { NODE_ENV: 'production' });
    writeFileSync(file, 'API_KEYS=\n');
    expect(live.reload('test')).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/API_KEYS/) });
    expect(live.current().config.api.keys).toEqual(['k']);
  });

  it('when described, then secret settings show a count and never their values', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sagaflow-conf-')), 'sagaflow.env');
    writeFileSync(file, 'API_KEYS=very-secret-a,very-secret-b\nWEBHOOK_URL_ALLOW=hooks.example.com\n');
    const view = describeConfig(holder(file));
    const text = JSON.stringify(view);
    expect(text).not.toContain('very-secret');
    expect(view.live.API_KEYS).toEqual({ secret: true, count: 2 });
    expect(view.live.WEBHOOK_URL_ALLOW).toEqual(['hooks.example.com']);
    expect(view.restartOnly).toContain('API_PORT');
    expect(view.version).toBe(1);
  });
});

describe('host allow-lists', () => {
  it('when a list is set, then only its hosts (and *. subdomains) pass', () => {
    const allow = ['hooks.example.com', '*.partner.test'];
    expect(hostOnAllowList('HOOKS.example.com', allow)).toBe(true);
    expect(hostOnAllowList('a.b.partner.test', allow)).toBe(true);
    expect(hostOnAllowList('partner.test', allow)).toBe(false);
    expect(hostOnAllowList('evilpartner.test', allow)).toBe(false);
    expect(() => checkUrlForm('https://other.example.com/h', { production: true, allowHosts: allow })).toThrow(/not on the allow-list/);
    expect(checkUrlForm('https://x.partner.test/h', { production: true, allowHosts: allow }).hostname).toBe('x.partner.test');
    expect(checkUrlForm('http://127.0.0.1:9/h', { production: false, allowHosts: [] }).hostname).toBe('127.0.0.1');
  });
});

describe('per-request settings and unavailability', () => {
  it('when the limits a request reads are lowered, then the existing bucket is clamped to the new burst', async () => {
    let limits = { perSecond: 1, burst: 100 };
    const app = new Hono();
    app.use(rateLimit(() => limits, () => 0));
    app.get('/', (c) => c.text('ok'));
    app.onError(errorHandler(silent));
    for (let i = 0; i < 5; i++) expect((await app.request('/')).status).toBe(200);
    limits = { perSecond: 1, burst: 2 };
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/')).status).toBe(429);
  });

  it('when a request needs a database whose server is gone, then it answers 503 with Retry-After', async () => {
    const app = new Hono();
    app.get('/', () => {
      throw new DatabaseError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', sql: 'SELECT 1' }) as never);
    });
    app.onError(errorHandler(silent));
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await res.json()) as { code: number }).code).toBe(5030);
  });
});
