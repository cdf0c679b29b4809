// Operations endpoints: liveness, readiness (every database this API reads and Temporal answer; 503 with Retry-After
// while one is down), Prometheus metrics, and the active configuration (GET /v1/ops/config, behind the API key).
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../platform/http/deps';
import { within as withinMs } from '../../platform/timeout';
import { ApiError, Codes, ok } from '../../platform/http/envelope';
import { describeConfig } from '../../platform/config-reload';
import { apiKeyAuth, operatorsOnly } from '../middleware/auth';

const within = <T>(ms: number, p: Promise<T>) => withinMs(ms, p, 'readiness check');

export function opsRouter({ stores, temporal, metrics, draining, live, config }: AppDeps) {
  const router = new Hono<AppEnv>();
  // Metrics name units, queues and consumers: in production only an operator's key reads them (Prometheus sends it as
  // a bearer token: `authorization: { credentials: … }` in its scrape config); in development they stay open.
  if (config.env === 'production') router.use('/metrics', apiKeyAuth(config.api.keys), operatorsOnly(config.api.operators));
  router.get('/healthz', (c) => ok(c, { status: 'alive' }));
  router.get('/readyz', async (c) => {
    // From the first moment of a drain: take this instance out of rotation while it answers what it holds.
    if (draining?.aborted) throw new ApiError(Codes.unavailable, 'draining', { checks: { process: 'draining' } });
    const [databases, temporalOk] = await Promise.all([
      Promise.all(stores.list.map((s) => within(2_000, s.db.query('SELECT 1')).then(() => true, () => false))),
      within(2_000, temporal.connection.withDeadline(Date.now() + 2_000, () => temporal.workflowService.getSystemInfo({}))).then(
        () => true,
        () => false,
      ),
    ]);
    const database = databases.every(Boolean);
    const perStore = Object.fromEntries(stores.list.map((s, i) => [s.unit, databases[i] ? 'up' : 'down']));
    const checks = { database: database ? 'up' : 'down', databases: perStore, temporal: temporalOk ? 'up' : 'down' };
    if (!database || !temporalOk) throw new ApiError(Codes.unavailable, 'not ready', { checks });
    return ok(c, { status: 'ready', checks });
  });
  // Mounted at the root like the probes, but under /v1: the API key middleware guards it.
  router.get('/v1/ops/config', (c) => ok(c, live ? describeConfig(live) : { version: 1, hotReload: false }));
  router.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  return router;
}
