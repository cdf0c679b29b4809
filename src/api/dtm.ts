// The DTM protocol's place in the HTTP layer: its guards on the API (the API key unless DTM_OPEN=1 — DTM itself has no
// auth; a body limit), and the app of its own listener (DTM_PORT) serving only /api/dtmsvr, with the same tracing,
// request ids, access log and error mapping as the API.
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { trace } from '@opentelemetry/api';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { DTM_PATH, dtmRouter } from '../workflows/dtm/route';
import type { AppDeps, AppEnv } from '../platform/http/deps';
import { ApiError, Codes } from '../platform/http/envelope';
import { accessLog } from './middleware/access-log';
import { apiKeyAuth } from './middleware/auth';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { activeTraceId, tracingMiddleware } from './middleware/tracing';

export function guardDtm(app: OpenAPIHono<AppEnv>, { config }: AppDeps): void {
  if (!config.dtm.open) app.use(`${DTM_PATH}/*`, apiKeyAuth(config.api.keys));
  app.use(
    `${DTM_PATH}/*`,
    bodyLimit({
      maxSize: Math.max(config.api.bodyLimitBytes, 1024 * 1024),
      onError: () => {
        throw new ApiError(Codes.tooLarge, 'body too large');
      },
    }),
  );
}

/** The app of the DTM listener: the protocol's endpoints only. */
export function createDtmApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  if (deps.tracing !== false) app.use(tracingMiddleware(trace.getTracer('sagaflow-dtm')));
  app.use(requestId({ limitLength: 128, generator: () => activeTraceId() ?? randomUUID() }));
  app.use(accessLog(deps.log, deps.metrics));
  guardDtm(app, deps);
  const { path, router } = dtmRouter(deps);
  app.route(path, router);
  app.notFound(notFoundHandler);
  app.onError(errorHandler(deps.log));
  return app;
}
