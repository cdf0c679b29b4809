// The only module that reads process.env (and CONFIG_FILE, layered over it). Every setting is validated here (the
// schema: ./schema.ts), with a readable message on failure, and the rest of the code receives a typed Config frozen all the way down. Hot reload
// (planReload) validates a new set of settings with the same schema and accepts it only when every changed setting is
// one of LIVE_SETTINGS; src/platform/config-reload.ts applies it.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { z } from 'zod';

import { schema } from './schema';

export type Env = z.input<typeof schema>;
export type Settings = z.output<typeof schema>;
export type SettingName = keyof Settings;

/**
 * What may change while a process runs: each is read per request (API: the request's snapshot) or per use (log level,
 * consumer retries, webhook backoff, the step timeouts and stuck alarm of flows started from then on). Everything
 * else — addresses, ports, pools, database and broker URLs, task queues, modes — needs a restart.
 */
export const LIVE_SETTINGS: readonly SettingName[] = [
  'LOG_LEVEL',
  'API_KEYS',
  'RATE_LIMIT_PER_SECOND',
  'RATE_LIMIT_BURST',
  'WEBHOOK_URL_ALLOW',
  'DTM_BRANCH_URL_ALLOW',
  'STEP_START_TO_CLOSE_MS',
  'STEP_SCHEDULE_TO_CLOSE_MS',
  'COMPENSATION_STUCK_AFTER_MS',
  'CONSUMER_MAX_ATTEMPTS',
  'CONSUMER_RETRY_BASE_MS',
  'CONSUMER_RETRY_MAX_MS',
  'WEBHOOK_TIMEOUT_MS',
  'WEBHOOK_RETRY_FOR_MS',
  'WEBHOOK_BACKOFF_BASE_MS',
  'WEBHOOK_BACKOFF_MAX_MS',
];

/** Settings whose values are never shown (GET /v1/ops/config names them, never their values). */
const SECRET = /KEY|PASSWORD|SECRET|TOKEN|_URLS?$/;
export const isSecretSetting = (name: string) => SECRET.test(name);

function toConfig(e: z.output<typeof schema>) {
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      keys: e.API_KEYS,
      operators: e.API_OPERATOR_IDS.map((id) => `key:${id}`),
      rateLimit: { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST },
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      drainDelayMs: e.SHUTDOWN_DRAIN_DELAY_MS,
    },
    temporal: temporalOf(e),
    worker: {
      serve: e.WORKER_SERVE,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
      metricsAddress: e.WORKER_METRICS_PORT ? `${e.WORKER_METRICS_HOST}:${e.WORKER_METRICS_PORT}` : undefined,
    },
    codec: { keys: e.PAYLOAD_KEYS.map((k) => ({ id: k.slice(0, k.indexOf(':')), key: k.slice(k.indexOf(':') + 1) })), corsOrigin: e.CODEC_CORS_ORIGIN },
    tracing: { exporter: e.OTEL_TRACES_EXPORTER, otlpEndpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT },
    db: {
      urls: databaseUrls(e),
      pool: { max: e.DB_POOL_MAX, min: e.DB_POOL_MIN, acquire: e.DB_POOL_ACQUIRE_MS, idle: e.DB_POOL_IDLE_MS, evict: e.DB_POOL_EVICT_MS },
    },
    retention: {
      idempotencyHours: e.IDEMPOTENCY_RETENTION_HOURS,
      barrierDays: e.BARRIER_RETENTION_DAYS,
      intervalMs: e.RETENTION_JOB_INTERVAL_MS,
    },
    broker: { url: e.BROKER_URL, prefix: e.BROKER_PREFIX },
    events: eventsOf(e),
    webhooks: {
      dispatch: e.WEBHOOKS_DISPATCH,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryForMs: e.WEBHOOK_RETRY_FOR_MS,
      backoffBaseMs: e.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: e.WEBHOOK_BACKOFF_MAX_MS,
      pollMs: e.WEBHOOK_POLL_MS,
    },
    flows: flowsOf(e),
    xaRecovery: { afterMs: e.XA_RECOVERY_AFTER_MS, intervalMs: e.XA_RECOVERY_INTERVAL_MS },
    configFile: e.CONFIG_FILE,
    supervisorStateFile: e.SUPERVISOR_STATE_FILE,
    allow: { webhookHosts: e.WEBHOOK_URL_ALLOW },
    dtm: { port: e.DTM_PORT, open: e.DTM_OPEN, branchUrlAllow: e.DTM_BRANCH_URL_ALLOW },
  } as const;
}

type Parsed = z.output<typeof schema>;

function temporalOf(e: Parsed) {
  const tlsWanted = e.TEMPORAL_TLS ?? Boolean(e.TEMPORAL_TLS_CERT_PATH || e.TEMPORAL_API_KEY);
  return {
    address: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueuePrefix: e.TEMPORAL_TASK_QUEUE_PREFIX,
    apiKey: e.TEMPORAL_API_KEY,
    tls: tlsWanted
      ? {
          certPath: e.TEMPORAL_TLS_CERT_PATH,
          keyPath: e.TEMPORAL_TLS_KEY_PATH,
          caPath: e.TEMPORAL_TLS_CA_PATH,
          serverName: e.TEMPORAL_TLS_SERVER_NAME,
        }
      : undefined,
  };
}

function eventsOf(e: Parsed) {
  return {
    relay: e.EVENTS_RELAY,
    consume: e.EVENTS_CONSUME,
    relayBatchSize: e.RELAY_BATCH_SIZE,
    relayPollMs: e.RELAY_POLL_MS,
    outboxRetentionHours: e.OUTBOX_RETENTION_HOURS,
    inboxRetentionDays: e.INBOX_RETENTION_DAYS,
    deliveryRetentionDays: e.WEBHOOK_DELIVERY_RETENTION_DAYS,
    deadLetterRetentionDays: e.DEAD_LETTER_RETENTION_DAYS,
    retry: { maxAttempts: e.CONSUMER_MAX_ATTEMPTS, baseMs: e.CONSUMER_RETRY_BASE_MS, maxMs: e.CONSUMER_RETRY_MAX_MS },
  };
}

function flowsOf(e: Parsed) {
  return {
    stepStartToCloseMs: e.STEP_START_TO_CLOSE_MS,
    stepScheduleToCloseMs: e.STEP_SCHEDULE_TO_CLOSE_MS,
    compensationStuckAfterMs: e.COMPENSATION_STUCK_AFTER_MS,
    approvalThreshold: e.APPROVAL_THRESHOLD,
    approvalTimeoutMs: e.APPROVAL_TIMEOUT_MS,
    pointsPerMinorUnits: e.POINTS_PER_MINOR_UNITS,
    merchantAccountId: e.MERCHANT_ACCOUNT_ID,
    merchantSubAccounts: e.MERCHANT_SUB_ACCOUNTS,
    transfers: {
      mode: e.TRANSFER_MODE,
      batch: { maxSize: e.TRANSFER_BATCH_MAX_SIZE, lingerMs: e.TRANSFER_BATCH_LINGER_MS, lingerFrom: e.TRANSFER_BATCH_LINGER_FROM, maxInFlight: e.TRANSFER_BATCH_MAX_STARTING },
    },
    transferConsistency: e.TRANSFER_CONSISTENCY,
  };
}


export type Config = ReturnType<typeof toConfig>;

/** `mysql://…/sagaflow` + `orders` → `mysql://…/sagaflow_orders`: one server, one database per unit. */
function onServer(url: string, unit: string): string {
  const u = new URL(url);
  const base = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'sagaflow';
  u.pathname = `/${base}_${unit.replace(/-/g, '_')}`;
  return u.toString();
}

/** Every database, by owner. Unset URLs fall back to a database of their own on DATABASE_URL's server. */
function databaseUrls(e: z.output<typeof schema>) {
  const shards = e.LEDGER_DATABASE_URLS.length || e.LEDGER_SHARDS;
  const ledger = Array.from({ length: shards }, (_, i) => e.LEDGER_DATABASE_URLS[i] ?? onServer(e.DATABASE_URL, `ledger-${i}`));
  return {
    ledger,
    inventory: e.INVENTORY_DATABASE_URL ?? onServer(e.DATABASE_URL, 'inventory'),
    orders: e.ORDERS_DATABASE_URL ?? onServer(e.DATABASE_URL, 'orders'),
    loyalty: e.LOYALTY_DATABASE_URL ?? onServer(e.DATABASE_URL, 'loyalty'),
    api: e.API_DATABASE_URL ?? onServer(e.DATABASE_URL, 'api'),
    dtm: e.DTM_DATABASE_URL ?? onServer(e.DATABASE_URL, 'dtm'),
  };
}

export class ConfigError extends Error {}

/** The environment with CONFIG_FILE's settings (dotenv form) layered over it; an unreadable file is a ConfigError. */
export function settingsEnv(env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  if (!env.CONFIG_FILE) return env;
  let text: string;
  try {
    text = readFileSync(env.CONFIG_FILE, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  CONFIG_FILE: cannot read ${env.CONFIG_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { ...env, ...parseEnv(text) };
}

/** Validates an environment. Throws ConfigError listing every bad variable. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  const parsed = schema
    .superRefine((e, ctx) => {
      // Retention keeps the barrier rows of running flows (it asks Temporal), but a configuration whose approval wait
      // alone outlives the retention is a mistake worth refusing outright.
      if (e.APPROVAL_TIMEOUT_MS >= e.BARRIER_RETENTION_DAYS * 86_400_000) {
        ctx.addIssue({ code: 'custom', path: ['APPROVAL_TIMEOUT_MS'], message: 'must be shorter than BARRIER_RETENTION_DAYS' });
      }
    })
    .safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export const configOf = (settings: Settings): Config => deepFreeze(toConfig(settings));

/** Parses an environment (process.env and CONFIG_FILE by default). Throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = settingsEnv()): Config {
  return configOf(parseSettings(env));
}

/** The settings and the Config made from them (a process that hot-reloads keeps both). */
export function loadSettings(env: Record<string, string | undefined> = settingsEnv()): { settings: Settings; config: Config } {
  const settings = parseSettings(env);
  return { settings, config: configOf(settings) };
}

/** The settings whose values differ between two parsed sets, in schema order. */
export function changedSettings(before: Settings, after: Settings): SettingName[] {
  return (Object.keys(schema.shape) as SettingName[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

export type ReloadPlan =
  | { ok: true; settings: Settings; config: Config; changed: SettingName[] }
  | { ok: false; reason: string; fixed: SettingName[] };

/**
 * Whether `env` may replace `current` in a running process: valid by the same schema, and changing only LIVE_SETTINGS.
 * A refusal says why: the validation errors, or the settings that cannot change live (named in `fixed`).
 */
export function planReload(current: Settings, env: Record<string, string | undefined>): ReloadPlan {
  let settings: Settings;
  try {
    settings = parseSettings(env);
  } catch (err) {
    return { ok: false, reason: (err as Error).message, fixed: [] };
  }
  const changed = changedSettings(current, settings);
  const fixed = changed.filter((k) => !LIVE_SETTINGS.includes(k));
  if (fixed.length) return { ok: false, reason: `cannot change without a restart: ${fixed.join(', ')}`, fixed };
  return { ok: true, settings, config: configOf(settings), changed };
}

/** The API's own start-up rule: production never runs open, nor with plaintext payloads. */
export function assertApiConfig(config: Config): void {
  if (config.env === 'production' && config.api.keys.length === 0) {
    throw new ConfigError('invalid configuration:\n  API_KEYS: production mode requires at least one API key');
  }
  assertWorkerConfig(config);
}

/** A worker's (and the API's) start-up rule: production never writes plaintext payloads to Temporal. */
export function assertWorkerConfig(config: Config): void {
  if (config.env === 'production' && config.codec.keys.length === 0) {
    throw new ConfigError('invalid configuration:\n  PAYLOAD_KEYS: production mode requires a payload encryption key');
  }
}
