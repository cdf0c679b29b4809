// Operations endpoints: liveness, readiness (MariaDB and Temporal answer), Prometheus metrics.
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { ApiError, Codes, ok } from '../envelope';

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error('timed out')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function opsRouter({ db, temporal, metrics }: AppDeps) {
  const router = new Hono<AppEnv>();
  router.get('/healthz', (c) => ok(c, { status: 'alive' }));
  router.get('/readyz', async (c) => {
    const [database, temporalOk] = await Promise.all([
      within(2_000, db.query('SELECT 1')).then(() => true, () => false),
      within(2_000, temporal.connection.withDeadline(Date.now() + 2_000, () => temporal.workflowService.getSystemInfo({}))).then(
        () => true,
        () => false,
      ),
    ]);
    const checks = { database: database ? 'up' : 'down', temporal: temporalOk ? 'up' : 'down' };
    if (!database || !temporalOk) throw new ApiError(Codes.unavailable, 'not ready', { checks });
    return ok(c, { status: 'ready', checks });
  });
  router.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  return router;
}
