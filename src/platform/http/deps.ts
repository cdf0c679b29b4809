// What routers are built from: configuration, the open databases (each router takes only its own), the Temporal
// client, a logger and metrics. Typed Hono env for every router.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { Publisher } from 'rabbitmq-client';
import type { BrokerNames } from '../broker';
import type { Logger } from '../logger';
import type { Stores } from '../stores';
import type { ApiMetrics } from './metrics';

export interface AppDeps {
  config: Config;
  stores: Stores;
  temporal: Client;
  log: Logger;
  metrics: ApiMetrics;
  /** Aborted when the process starts draining: /readyz turns 503, waiting requests answer 202 with Location at once. */
  draining?: AbortSignal;
  /** False when no trace exporter is configured: no HTTP span per request (default true). */
  tracing?: boolean;
  /** The broker, for operators' replays of dead letters (absent: a replay answers 503). */
  broker?: { publisher: Publisher; names: BrokerNames };
}

export interface AppEnv {
  Variables: { requestId: string; principal: string };
}

export type Router = OpenAPIHono<AppEnv>;

/** A router and where it is mounted (`/v1/accounts`). */
export interface Mount {
  path: string;
  router: Router;
}
