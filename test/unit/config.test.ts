// Configuration: defaults, validation messages, and the production paths (self-hosted TLS, Temporal Cloud).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertApiConfig, ConfigError, loadConfig } from '../../src/config';
import { connectionOptions } from '../../src/temporal/connection';

describe('config', () => {
  it('when nothing is set, then the development defaults apply', () => {
    const c = loadConfig({});
    expect(c.env).toBe('development');
    expect(c.api).toMatchObject({ host: '127.0.0.1', port: 3000, keys: [], bodyLimitBytes: 65_536 });
    expect(c.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'sagaflow', tls: undefined });
    expect(c.flows).toMatchObject({ approvalThreshold: 1_000_000, approvalTimeoutMs: 86_400_000, pointsPerMinorUnits: 100 });
    expect(c.db.pool).toEqual({ max: 20, min: 0, acquire: 30_000, idle: 10_000, evict: 1_000 });
  });

  it('when values are invalid, then every bad variable is named', () => {
    expect(() => loadConfig({ API_PORT: 'eighty', DATABASE_URL: 'not a url', NODE_ENV: 'staging' })).toThrowError(
      /API_PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*API_PORT/,
    );
    expect(() => loadConfig({ NODE_ENV: 'staging' })).toThrow(ConfigError);
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
});
