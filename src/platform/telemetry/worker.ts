// Worker-side telemetry: the OpenTelemetry plugin (activity interceptors, the workflow interceptor module and the sink
// that exports workflow spans) and Temporal core's Prometheus metrics endpoint.
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { Runtime } from '@temporalio/worker';
import type { Tracing } from './tracing';

/** Workflow interceptor modules that must be in every workflow bundle (prebuilt bundles included). */
export const workflowInterceptorModules = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

export function tracingPlugin(tracing: Pick<Tracing, 'resource' | 'spanProcessor'>) {
  return new OpenTelemetryPlugin({ resource: tracing.resource, spanProcessor: tracing.spanProcessor });
}

/** Exposes Temporal core metrics (task latencies, slots, polls, sticky cache…) for Prometheus on `address`. */
export function installRuntimeMetrics(address: string | undefined): void {
  if (!address) return;
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: address } } } });
}
