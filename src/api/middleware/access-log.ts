// One JSON line per request: method, route pattern, status, duration and traceId. Never bodies, keys or query values.
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from '../../platform/logger';
import type { ApiMetrics } from '../../platform/http/metrics';

export function accessLog(log: Logger, metrics: ApiMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    let route = routePath(c) || 'unmatched';
    if (route === '/*' || route === '*') route = 'unmatched';
    const status = c.res.status;
    metrics.requests.inc({ method: c.req.method, route, status: String(status) });
    metrics.latency.observe({ method: c.req.method, route }, seconds);
    log.info({ method: c.req.method, route, status, ms: Math.round(seconds * 1000), traceId: c.get('requestId') }, 'request');
  };
}
