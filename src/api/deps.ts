// What the HTTP app is built from: configuration, the DB pool, the Temporal client, a logger and metrics.
import type { Client } from '@temporalio/client';
import type { Sequelize } from 'sequelize';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ApiMetrics } from './metrics';

export interface AppDeps {
  config: Config;
  db: Sequelize;
  temporal: Client;
  log: Logger;
  metrics: ApiMetrics;
}

export interface AppEnv {
  Variables: { requestId: string; principal: string };
}
