// Application metrics in Prometheus format (prom-client): requests by route and status, latency, and flows by type
// and outcome as observed by the API.
import { readFile } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { pendingDeadLetters } from '../dead-letters';
import { outboxBacklog } from '../outbox';
import type { Stores } from '../stores';

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

/**
 * Event gauges, read from the databases at scrape time (so they hold whichever processes run the relays): each
 * store's outbox backlog and the age of its oldest unpublished row, and the dead letters not replayed, by consumer.
 */
export function registerEventMetrics({ registry }: ApiMetrics, stores: Stores) {
  if (registry.getSingleMetric('sagaflow_outbox_backlog')) return;
  const outboxes = stores.list.filter((s) => s.domain !== 'api');
  const read = () => Promise.all(outboxes.map((s) => outboxBacklog(s.db).then((b) => ({ unit: s.unit, ...b }), () => undefined)));
  new Gauge({
    name: 'sagaflow_outbox_backlog',
    help: 'Outbox rows not yet published, per store',
    labelNames: ['unit'],
    registers: [registry],
    async collect() {
      for (const b of await read()) if (b) this.set({ unit: b.unit }, b.backlog);
    },
  });
  new Gauge({
    name: 'sagaflow_outbox_oldest_unpublished_seconds',
    help: 'Age of the oldest unpublished outbox row, per store (0 when none)',
    labelNames: ['unit'],
    registers: [registry],
    async collect() {
      for (const b of await read()) if (b) this.set({ unit: b.unit }, b.oldestSeconds);
    },
  });
  const api = stores.list.find((s) => s.domain === 'api');
  new Gauge({
    name: 'sagaflow_dead_letters',
    help: 'Dead letters not replayed yet, per consumer',
    labelNames: ['consumer'],
    registers: [registry],
    async collect() {
      this.reset();
      if (!api) return;
      for (const d of await pendingDeadLetters(api.db).catch(() => [])) this.set({ consumer: d.consumer }, d.n);
    },
  });
}

/**
 * Restarts of the processes npm run dev supervises (scripts/lib/procs.mjs writes { process: restarts } to `file`):
 * read at scrape time, so an API that was itself restarted still reports every restart, its own included.
 */
export function registerSupervisorMetrics({ registry }: ApiMetrics, file: string) {
  if (registry.getSingleMetric('sagaflow_supervisor_restarts_total')) return;
  new Counter({
    name: 'sagaflow_supervisor_restarts_total',
    help: 'Processes of the dev stack restarted by its supervisor after they died, by process',
    labelNames: ['process'],
    registers: [registry],
    async collect() {
      const counts = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Record<string, number>, () => undefined);
      if (!counts) return;
      this.reset();
      for (const [name, n] of Object.entries(counts)) this.inc({ process: name }, Number(n) || 0);
    },
  });
}
