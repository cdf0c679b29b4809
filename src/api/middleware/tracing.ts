// A server span per request, active while the request is handled, so the Temporal client interceptor parents the
// StartWorkflow span on it. Runs before the request-id middleware, which takes its trace id as the traceId.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';

export function tracingMiddleware(tracer: Tracer): MiddlewareHandler {
  return async (c, next) => {
    const parent = propagation.extract(context.active(), Object.fromEntries(c.req.raw.headers));
    const span = tracer.startSpan(`HTTP ${c.req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.method': c.req.method } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), next);
      span.setAttribute('http.status_code', c.res.status);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } finally {
      span.end();
    }
  };
}

/** The active span's trace id, for the request id of a request that brought none. */
export function activeTraceId(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}
