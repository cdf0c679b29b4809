// The coordinator under test: the API's dependencies over the real Temporal server and MariaDB servers, workers for
// every unit (the dtm service's branch callers included) on a fresh task-queue prefix, and the DTM listener (the app
// DTM_PORT serves) on a free port of 127.0.0.1, as DTM's clients reach it. Plus a participant (participant.ts).
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createDtmApp } from '../../src/api/dtm';
import { createMetrics } from '../../src/platform/http/metrics';
import { logger } from '../../src/platform/logger';
import type { Worker } from '@temporalio/worker';
import { createFlowsEnv, startWorkers, uid, type FlowsEnv } from '../helpers/env';
import { participantDatabase, startParticipant, type Participant } from './participant';

export interface DtmEnv extends FlowsEnv {
  /** `http://127.0.0.1:<port>/api/dtmsvr` */
  dtm: string;
  part: Participant;
  metrics: ReturnType<typeof createMetrics>;
  /** Stops the workers (a crash mid-transaction) and starts fresh ones on the same task queues. */
  restartWorkers(whileDown?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export async function createDtmEnv(overrides: Record<string, string> = {}): Promise<DtmEnv> {
  const ctx = await createFlowsEnv({ TEMPORAL_TASK_QUEUE_PREFIX: uid('dtm-'), LOG_LEVEL: 'silent', DTM_OPEN: '1', ...overrides });
  const prefix = ctx.config.temporal.taskQueuePrefix;
  let workers: Worker[] = await startWorkers(ctx, prefix);
  let running = workers.map((w) => w.run());
  const metrics = createMetrics();
  const app = createDtmApp({ config: ctx.config, stores: ctx.stores, temporal: ctx.env.client, log: logger(ctx.config), metrics });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const dtm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/dtmsvr`;
  const part = await startParticipant(await participantDatabase(ctx.config.db.urls.dtm), () => dtm);
  const stop = async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
  };
  return {
    ...ctx,
    dtm,
    part,
    metrics,
    async restartWorkers(whileDown) {
      await stop();
      await whileDown?.();
      workers = await startWorkers(ctx, prefix);
      running = workers.map((w) => w.run());
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await part.close();
      await stop();
      await ctx.close();
    },
  };
}

/** POSTs/GETs the coordinator as a client does. */
export async function dtmCall(env: Pick<DtmEnv, 'dtm'>, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${env.dtm}/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
