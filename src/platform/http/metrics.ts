// Application metrics in Prometheus format (prom-client): requests by route and status, latency, and flows by type
// and outcome as observed by the API.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sagaflow_api_' });
  const requests = new Counter({
    name: 'sagaflow_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'sagaflow_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const flows = new Counter({
    name: 'sagaflow_flows_total',
    help: 'Flows started and finished, by type and outcome (started, completed, compensated, cancelled, confirmed, failed)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'sagaflow_batch_size',
    help: 'Flows per batch run started by this process (batched mode)',
    labelNames: ['type'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  return { registry, requests, latency, flows, batchSize };
}

export type ApiMetrics = ReturnType<typeof createMetrics>;
