// What routers are built from: configuration, the open databases (each router takes only its own), the Temporal
// client, a logger and metrics. Typed Hono env for every router.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { Publisher } from 'rabbitmq-client';
import type { BrokerNames } from '../broker';
import type { Logger } from '../logger';
import type { Stores } from '../stores';
import type { LiveConfig } from '../config-reload';
import type { ApiMetrics } from './metrics';

export interface AppDeps {
  /** The configuration at start; a request reads its own snapshot, c.get('config') (the live one when `live` is set). */
  config: Config;
  /** Hot reload (the API process): each request takes live.current() once. Absent: `config` for every request. */
  live?: LiveConfig;
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
  Variables: { requestId: string; principal: string; config: Config };
}

export type Router = OpenAPIHono<AppEnv>;

/** A router and where it is mounted (`/v1/accounts`). */
export interface Mount {
  path: string;
  router: Router;
}
