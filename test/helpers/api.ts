// An API under test: the real app (app.request, no port) over the real Temporal server and MariaDB servers, with
// workers for every unit polling this file's own task-queue prefix for the whole file.
import { createApp } from '../../src/api/app';
import { startDomainEvents } from '../../src/event-runtime';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import { createFlowsEnv, startWorkers, uid, type FlowsEnv } from './env';

export interface ApiEnv extends FlowsEnv {
  app: ReturnType<typeof createApp>;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: any }>;
}

export async function createApiEnv(overrides: Record<string, string> = {}, { worker = true } = {}): Promise<ApiEnv> {
  const ctx = await createFlowsEnv({ TEMPORAL_TASK_QUEUE_PREFIX: uid('api-'), LOG_LEVEL: 'silent', ...overrides });
  let stopWorkers = async () => {};
  if (worker) {
    const workers = await startWorkers(ctx, ctx.config.temporal.taskQueuePrefix);
    const running = workers.map((w) => w.run());
    // Relays and consumers as a worker process runs them (shared broker prefix: see withWorker).
    const events = startDomainEvents({ config: ctx.config, stores: ctx.stores.list.filter((s) => s.domain !== 'api'), log: logger(ctx.config) });
    stopWorkers = async () => {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
      await events.stop();
    };
  }
  const app = createApp({ config: ctx.config, stores: ctx.stores, temporal: ctx.env.client, log: logger(ctx.config), metrics: createMetrics() });
  return {
    ...ctx,
    app,
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const res = await app.request(path, init);
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.status, headers: res.headers, json };
    },
    async close() {
      await stopWorkers();
      await ctx.close();
    },
  };
}
