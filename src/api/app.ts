// createApp(deps): the whole HTTP application, without opening a port (tests call app.request()). Routes are mounted
// from the domain and flow registries; this file names none of them.
// Middleware order: tracing span → request id (the span's trace id unless the caller sent one) → access log/metrics → secure headers → timeout → (v1 only) auth → rate limit →
// body limit → routes; one onError turns every failure into the envelope.
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { trace } from '@opentelemetry/api';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { timeout } from 'hono/timeout';
import { services } from '../activities';
import { flows } from '../workflows';
import type { AppDeps, AppEnv } from '../platform/http/deps';
import { ApiError, Codes } from '../platform/http/envelope';
import { registerEventMetrics } from '../platform/http/metrics';
import { validationHook } from '../platform/http/validation';
import { guardDtm } from './dtm';
import { accessLog } from './middleware/access-log';
import { apiKeyAuth } from './middleware/auth';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { rateLimit } from './middleware/rate-limit';
import { activeTraceId, tracingMiddleware } from './middleware/tracing';
import { deadLettersRouter } from './routes/dead-letters';
import { mountDocs } from './routes/docs';
import { opsRouter } from './routes/ops';
import { webhooksRouter } from './routes/webhooks';

export function createApp(deps: AppDeps) {
  const { config, log, metrics } = deps;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerEventMetrics(metrics, deps.stores);

  if (deps.tracing !== false) app.use(tracingMiddleware(trace.getTracer('sagaflow-api')));
  app.use(requestId({ limitLength: 128, generator: () => activeTraceId() ?? randomUUID() }));
  app.use(accessLog(log, metrics));
  app.use(secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'] } }));
  app.use(timeout(config.api.requestTimeoutMs, () => new HTTPException(503, { message: 'request timed out' })));

  app.use('/v1/*', apiKeyAuth(config.api.keys));
  app.use('/v1/*', rateLimit(config.api.rateLimit));
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: config.api.bodyLimitBytes,
      onError: () => {
        throw new ApiError(Codes.tooLarge, `body larger than ${config.api.bodyLimitBytes} bytes`);
      },
    }),
  );

  guardDtm(app, deps); // /api/dtmsvr: DTM's protocol (the dtm flow's routes), its own auth rule and body limit

  // Every route comes from a registry: the services' read routes, then the flows' routes.
  for (const { path, router } of [...services.flatMap((d) => d.routes?.(deps) ?? []), ...flows.flatMap((f) => f.routes(deps))]) {
    app.route(path, router);
  }
  for (const { path, router } of [webhooksRouter(deps), deadLettersRouter(deps)]) app.route(path, router);
  app.route('/', opsRouter(deps));
  mountDocs(app, deps);

  app.notFound(notFoundHandler);
  app.onError(errorHandler(log));
  return app;
}

export type App = ReturnType<typeof createApp>;
