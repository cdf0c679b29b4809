// The API process: builds the dependencies, listens, and shuts down gracefully on SIGTERM/SIGINT (stop accepting,
// finish in-flight requests within SHUTDOWN_GRACE_MS, then close the Temporal connection and the DB pool).
import { serve, type ServerType } from '@hono/node-server';
import { assertApiConfig, loadConfig } from '../config';
import { startApiEvents } from '../event-runtime';
import { allStores } from '../stores';
import { createMetrics } from '../platform/http/metrics';
import { logger } from '../platform/logger';
import { every, purgeExpiredIdempotencyKeys } from '../platform/retention';
import { openStores } from '../platform/stores';
import { setupTracing } from '../platform/telemetry/tracing';
import { connectClient } from '../platform/temporal/connection';
import { createApp } from './app';
import { createDtmApp } from './dtm';

async function main() {
  const config = loadConfig();
  assertApiConfig(config);
  const log = logger(config).child({ component: 'api' });
  if (config.api.keys.length === 0) {
    log.warn('!!! API_KEYS is empty: the API is OPEN to anyone who can reach it (development mode only) !!!');
  }
  const tracing = setupTracing(config.tracing, 'sagaflow-api');
  // The API reads every domain's store (read routes, pre-checks) and writes only its own (idempotency keys).
  const stores = openStores(allStores(config), config.db.pool);
  const temporal = await connectClient(config.temporal, { traced: tracing.enabled });
  const drain = new AbortController();
  // Webhook fan-out and dispatch, the dead-letter keeper, and the publisher operators' replays use.
  const events = startApiEvents({ config, db: stores.db('api'), log });
  const deps = { config, stores, temporal, log, metrics: createMetrics(), draining: drain.signal, tracing: tracing.enabled, broker: events.broker };
  const app = createApp(deps);
  const retention = every(config.retention.intervalMs, () => purgeExpiredIdempotencyKeys(stores.db('api')), log, 'api');

  const server: ServerType = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) =>
    log.info({ url: `http://${info.address}:${info.port}` }, 'api listening'),
  );

  // DTM_PORT: the DTM protocol on a listener of its own, so DTM clients change only their server URL.
  const dtmServer = config.dtm.port
    ? serve({ fetch: createDtmApp(deps).fetch, hostname: config.api.host, port: config.dtm.port }, (info) => log.info({ url: `http://${info.address}:${info.port}/api/dtmsvr` }, 'dtm listening'))
    : undefined;

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    // /readyz answers 503 and every waiting request answers 202 + Location now; the port stays open for the drain delay
    // (a load balancer sees the 503 and stops sending), then closes and in-flight requests finish within the grace.
    drain.abort();
    log.info({ signal, drainDelayMs: config.api.drainDelayMs }, 'draining: readiness 503, waiting requests answered');
    await new Promise((r) => setTimeout(r, config.api.drainDelayMs));
    log.info('shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      log.warn('grace period over; closing remaining connections');
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    }, config.api.shutdownGraceMs);
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    await Promise.all([server, ...(dtmServer ? [dtmServer] : [])].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    clearTimeout(force);
    await temporal.connection.close();
    retention.stop();
    await events.stop();
    await stores.close();
    await tracing.shutdown();
    log.info('api stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(JSON.stringify({ level: 'fatal', msg: 'api failed to start', error: String(err?.message ?? err) }));
  process.exit(1);
});
