// An API under test: the real app (app.request, no port) over the real Temporal server and MariaDB, with a worker
// polling this file's own task queue for the whole file.
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities } from '../../src/activities';
import { createApp } from '../../src/api/app';
import { createMetrics } from '../../src/api/metrics';
import { logger } from '../../src/logger';
import { createFlowsEnv, testTracingPlugin, uid, type FlowsEnv } from './env';

export interface ApiEnv extends FlowsEnv {
  app: ReturnType<typeof createApp>;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: any }>;
}

export async function createApiEnv(overrides: Record<string, string> = {}, { worker = true } = {}): Promise<ApiEnv> {
  const ctx = await createFlowsEnv({ TEMPORAL_TASK_QUEUE: uid('api-'), LOG_LEVEL: 'silent', ...overrides });
  let stopWorker = async () => {};
  if (worker) {
    const w = await Worker.create({
      connection: ctx.env.nativeConnection,
      namespace: ctx.config.temporal.namespace,
      taskQueue: ctx.config.temporal.taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: createActivities({ db: ctx.db }),
    plugins: [testTracingPlugin()],
    });
    const running = w.run();
    stopWorker = async () => {
      w.shutdown();
      await running;
    };
  }
  const app = createApp({ config: ctx.config, db: ctx.db, temporal: ctx.env.client, log: logger(ctx.config), metrics: createMetrics() });
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
      await stopWorker();
      await ctx.close();
    },
  };
}
