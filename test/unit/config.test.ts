// Configuration: defaults, validation messages, the production paths (self-hosted TLS, Temporal Cloud), where each
// domain's database is, and which units a worker serves.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertApiConfig, ConfigError, loadConfig } from '../../src/config';
import { connectionOptions } from '../../src/platform/temporal/connection';
import { selectUnits } from '../../src/worker';

describe('config', () => {
  it('when nothing is set, then the development defaults apply', () => {
    const c = loadConfig({});
    expect(c.env).toBe('development');
    expect(c.api).toMatchObject({ host: '127.0.0.1', port: 3000, keys: [], bodyLimitBytes: 65_536 });
    expect(c.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueuePrefix: 'sagaflow', tls: undefined });
    expect(c.flows).toMatchObject({ approvalThreshold: 1_000_000, approvalTimeoutMs: 86_400_000, pointsPerMinorUnits: 100 });
    expect(c.db.pool).toEqual({ max: 20, min: 0, acquire: 30_000, idle: 10_000, evict: 1_000 });
  });

  it('when values are invalid, then every bad variable is named', () => {
    expect(() => loadConfig({ API_PORT: 'eighty', DATABASE_URL: 'not a url', NODE_ENV: 'staging' })).toThrowError(
      /API_PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*API_PORT/,
    );
    expect(() => loadConfig({ NODE_ENV: 'staging' })).toThrow(ConfigError);
  });

  it('when the approval may wait longer than barrier rows are kept, then the configuration is refused', () => {
    expect(() => loadConfig({ APPROVAL_TIMEOUT_MS: String(8 * 86_400_000), BARRIER_RETENTION_DAYS: '7' })).toThrowError(
      /APPROVAL_TIMEOUT_MS: must be shorter than BARRIER_RETENTION_DAYS/,
    );
    expect(loadConfig({ APPROVAL_TIMEOUT_MS: String(8 * 86_400_000), BARRIER_RETENTION_DAYS: '30' }).flows.approvalTimeoutMs).toBe(8 * 86_400_000);
  });

  it('when in production without API keys, then the API refuses to start; with keys it starts', () => {
    expect(() => assertApiConfig(loadConfig({ NODE_ENV: 'production' }))).toThrow(/API_KEYS/);
    expect(() => assertApiConfig(loadConfig({ NODE_ENV: 'production', API_KEYS: 'a, b' }))).not.toThrow();
    expect(loadConfig({ API_KEYS: 'a, b,' }).api.keys).toEqual(['a', 'b']);
  });

  it('when client certificates are configured (self-hosted mTLS), then the connection uses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-tls-'));
    for (const f of ['client.pem', 'client.key', 'ca.pem']) writeFileSync(join(dir, f), `-----${f}-----`);
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'payments',
      TEMPORAL_TLS_CERT_PATH: join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY_PATH: join(dir, 'client.key'),
      TEMPORAL_TLS_CA_PATH: join(dir, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const o = connectionOptions(c.temporal);
    expect(o.address).toBe('temporal.internal:7233');
    expect(o.tls?.clientCertPair?.crt.toString()).toBe('-----client.pem-----');
    expect(o.tls?.clientCertPair?.key.toString()).toBe('-----client.key-----');
    expect(o.tls?.serverRootCACertificate?.toString()).toBe('-----ca.pem-----');
    expect(o.tls?.serverNameOverride).toBe('temporal.internal');
    expect(c.temporal.namespace).toBe('payments');
  });

  it('when a Temporal Cloud API key is configured, then TLS is on and the key is sent', () => {
    const c = loadConfig({ TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'acme.a1b2c', TEMPORAL_API_KEY: 'secret' });
    const o = connectionOptions(c.temporal);
    expect(o.apiKey).toBe('secret');
    expect(o.tls).toBeDefined();
    expect(o.tls?.clientCertPair).toBeUndefined();
  });

  it('when the dev server is used, then there is no TLS', () => {
    expect(connectionOptions(loadConfig({}).temporal).tls).toBeUndefined();
  });

  it('worker tuning knobs come from the environment', () => {
    const c = loadConfig({ WORKER_MAX_CONCURRENT_ACTIVITIES: '7', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '3', WORKER_MAX_CACHED_WORKFLOWS: '50', WORKER_METRICS_PORT: '9464' });
    expect(c.worker).toMatchObject({ maxConcurrentActivities: 7, maxConcurrentWorkflowTasks: 3, maxCachedWorkflows: 50, metricsAddress: '127.0.0.1:9464' });
  });

  it('when no database URL is set, then every unit gets `<DATABASE_URL database>_<unit>` on its server, two ledger shards', () => {
    expect(loadConfig({}).db.urls).toEqual({
      ledger: ['mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_ledger_0', 'mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_ledger_1'],
      inventory: 'mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_inventory',
      orders: 'mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_orders',
      loyalty: 'mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_loyalty',
      api: 'mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_api',
      dtm: 'mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_dtm',
    });
    const other = loadConfig({ DATABASE_URL: 'mysql://u:p@db.internal:3306/shop', LEDGER_SHARDS: '3' }).db.urls;
    expect(other.ledger).toEqual(['mysql://u:p@db.internal:3306/shop_ledger_0', 'mysql://u:p@db.internal:3306/shop_ledger_1', 'mysql://u:p@db.internal:3306/shop_ledger_2']);
    expect(other.orders).toBe('mysql://u:p@db.internal:3306/shop_orders');
  });

  it('when LEDGER_DATABASE_URLS lists shards, then config.db.urls.ledger is that list in order (and its length is the shard count)', () => {
    const c = loadConfig({
      LEDGER_DATABASE_URLS: ' mysql://u:p@a:3306/l0 , mysql://u:p@b:3306/l1,mysql://u:p@c:3306/l2,',
      LEDGER_SHARDS: '2',
      ORDERS_DATABASE_URL: 'mysql://u:p@a:3306/orders',
    });
    expect(c.db.urls.ledger).toEqual(['mysql://u:p@a:3306/l0', 'mysql://u:p@b:3306/l1', 'mysql://u:p@c:3306/l2']);
    expect(c.db.urls.orders).toBe('mysql://u:p@a:3306/orders');
    // Those not set still fall back to DATABASE_URL's server.
    expect(c.db.urls.inventory).toBe('mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_inventory');
    expect(c.db.urls.api).toBe('mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow_api');
  });

  it('when a domain database URL is not a URL, then it is named', () => {
    expect(() => loadConfig({ INVENTORY_DATABASE_URL: 'inventory db' })).toThrowError(/INVENTORY_DATABASE_URL/);
    expect(() => loadConfig({ LEDGER_SHARDS: '0' })).toThrowError(/LEDGER_SHARDS/);
  });

  it('when TEMPORAL_TASK_QUEUE_PREFIX is set, then it names every task queue; a malformed one is refused', () => {
    expect(loadConfig({ TEMPORAL_TASK_QUEUE_PREFIX: 'shop-eu.1' }).temporal.taskQueuePrefix).toBe('shop-eu.1');
    expect(() => loadConfig({ TEMPORAL_TASK_QUEUE_PREFIX: 'has space' })).toThrowError(/TEMPORAL_TASK_QUEUE_PREFIX/);
    expect(() => loadConfig({ TEMPORAL_TASK_QUEUE_PREFIX: 'x'.repeat(65) })).toThrowError(/TEMPORAL_TASK_QUEUE_PREFIX/);
  });

  it('when WORKER_SERVE lists units, then config.worker.serve is that list; unset, it is empty (serve all)', () => {
    expect(loadConfig({}).worker.serve).toEqual([]);
    expect(loadConfig({ WORKER_SERVE: 'flows, ledger:1,,inventory' }).worker.serve).toEqual(['flows', 'ledger:1', 'inventory']);
  });
});

describe('selectUnits', () => {
  const config = loadConfig({});
  const units = (serve: string[]) => {
    const s = selectUnits(config, serve);
    return { flows: s.flows, stores: s.stores.map((x) => x.unit) };
  };

  it('when nothing is named, then the flows unit and every domain store are served', () => {
    expect(units([])).toEqual({ flows: true, stores: ['ledger-0', 'ledger-1', 'inventory', 'orders', 'loyalty', 'dtm'] });
  });

  it('when flows is named, then only workflows are served', () => {
    expect(units(['flows'])).toEqual({ flows: true, stores: [] });
  });

  it('when a sharded domain is named, then every shard of it is served; with :n, that shard only', () => {
    expect(units(['ledger'])).toEqual({ flows: false, stores: ['ledger-0', 'ledger-1'] });
    expect(units(['ledger:1'])).toEqual({ flows: false, stores: ['ledger-1'] });
    expect(units(['ledger:1', 'ledger', 'orders', 'flows'])).toEqual({ flows: true, stores: ['ledger-1', 'ledger-0', 'orders'] });
    const shard = selectUnits(config, ['ledger:1']).stores[0];
    expect(shard).toMatchObject({ domain: 'ledger', index: 1, count: 2, url: config.db.urls.ledger[1] });
  });

  it('when an unknown domain or a shard that does not exist is named, then it fails with the name', () => {
    expect(() => selectUnits(config, ['payments'])).toThrowError(/payments/);
    expect(() => selectUnits(config, ['ledger:2'])).toThrowError(/ledger:2/);
    expect(() => selectUnits(config, ['orders:1'])).toThrowError(/orders:1/);
  });
});
