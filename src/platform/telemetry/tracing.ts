// OpenTelemetry tracing from the HTTP request through the workflow to each activity. The API starts a server span per
// request (its trace id becomes the response's traceId); Temporal's interceptors carry the context in workflow and
// activity headers; workflow spans leave the sandbox through a sink. Exporter: none (default), console or OTLP/HTTP.
// With no exporter nothing of it runs: no tracer provider, no HTTP span, no client or worker interceptors, and a
// workflow bundle without the workflow interceptors (measured: they cost about a third of the orchestration CPU).
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Config } from '../../config';

export interface Tracing {
  tracer: Tracer;
  resource: Resource;
  spanProcessor: SpanProcessor;
  enabled: boolean;
  shutdown(): Promise<void>;
}

export function processorFor(t: Config['tracing']): SpanProcessor {
  if (t.exporter === 'console') return new BatchSpanProcessor(new ConsoleSpanExporter());
  if (t.exporter === 'otlp') return new BatchSpanProcessor(new OTLPTraceExporter({ url: t.otlpEndpoint }));
  return new NoopSpanProcessor();
}

/** Installs the global tracer provider (once per process). Tests pass their own span processor. */
export function setupTracing(t: Config['tracing'], serviceName: string, spanProcessor: SpanProcessor = processorFor(t)): Tracing {
  const resource = new Resource({ 'service.name': serviceName });
  if (t.exporter === 'none' && spanProcessor instanceof NoopSpanProcessor) {
    return { tracer: trace.getTracer('sagaflow'), resource, spanProcessor, enabled: false, shutdown: async () => undefined };
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    tracer: trace.getTracer('sagaflow'),
    resource,
    spanProcessor,
    enabled: true,
    shutdown: () => provider.shutdown(),
  };
}
