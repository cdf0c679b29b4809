// The only module that reads process.env (and CONFIG_FILE, layered over it). Every setting is validated here, with a
// readable message on failure, and the rest of the code receives a typed Config frozen all the way down. Hot reload
// (planReload) validates a new set of settings with the same schema and accepts it only when every changed setting is
// one of LIVE_SETTINGS; src/platform/config-reload.ts applies it.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

const schema = z.object({
  /** Production unless asked otherwise: an open API (no API_KEYS) and plaintext payloads need NODE_ENV=development. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: int(3000, 0, 65535),
  /** `id:secret` entries (the id is the principal; two entries with one id = a secret being rotated) or bare secrets. */
  API_KEYS: list,
  /** Key ids whose principals are operators (dead letters, and /metrics in production); empty = every key's. */
  API_OPERATOR_IDS: list,
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(200),
  RATE_LIMIT_BURST: int(400, 1),
  BODY_LIMIT_BYTES: int(64 * 1024, 1024),
  REQUEST_TIMEOUT_MS: int(35_000, 1000),
  SHUTDOWN_GRACE_MS: int(15_000, 0),
  /** On SIGTERM: /readyz answers 503 and waiting requests answer 202 at once; the port stays open this long. */
  SHUTDOWN_DRAIN_DELAY_MS: int(3_000, 0),

  /** Payload encryption keys, `id:base64 of 32 bytes`, comma-separated: the first encrypts, all decrypt (rotation). */
  PAYLOAD_KEYS: list.pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9+/]{43}=$/, 'each entry is id:<base64 of 32 bytes>'))),
  /** The Temporal Web UI's origin, the one origin allowed to call the codec endpoints from a browser (CORS). */
  CODEC_CORS_ORIGIN: z.string().url().transform((u) => new URL(u).origin).optional(),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /** Every task queue is named `<prefix>-<unit>`: `-flows`, `-ledger-0`, `-ledger-1`, `-inventory`, `-orders`, `-loyalty`. */
  TEMPORAL_TASK_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('sagaflow'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: bool.optional(),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),

  /** What this worker process serves: `flows`, a domain (`ledger`, `inventory`, …) or one shard (`ledger:1`); empty = all. */
  WORKER_SERVE: list,
  WORKER_MAX_CONCURRENT_ACTIVITIES: int(100, 1),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: int(40, 1),
  WORKER_MAX_CACHED_WORKFLOWS: int(50, 0),
  WORKER_SHUTDOWN_GRACE_MS: int(20_000, 0),
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),

  OTEL_TRACES_EXPORTER: z.enum(['none', 'console', 'otlp']).default('none'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().default('http://127.0.0.1:4318/v1/traces'),

  /** A server for every database whose own URL is not set (small installs): database `<name>_<unit>` on it. */
  DATABASE_URL: z.string().url().default('mysql://sagaflow:sagaflow@127.0.0.1:3307/sagaflow'),
  /** Ledger shards in shard order; the count is fixed once accounts exist (an account's shard follows from its id). */
  LEDGER_DATABASE_URLS: list,
  LEDGER_SHARDS: int(2, 1, 64),
  INVENTORY_DATABASE_URL: z.string().url().optional(),
  ORDERS_DATABASE_URL: z.string().url().optional(),
  LOYALTY_DATABASE_URL: z.string().url().optional(),
  API_DATABASE_URL: z.string().url().optional(),
  /** The DTM-protocol coordinator's durable transaction record (the `dtm` service). */
  DTM_DATABASE_URL: z.string().url().optional(),
  DB_POOL_MAX: int(20, 1),
  DB_POOL_MIN: int(0, 0),
  DB_POOL_ACQUIRE_MS: int(30_000, 100),
  DB_POOL_IDLE_MS: int(10_000, 100),
  DB_POOL_EVICT_MS: int(1_000, 100),

  IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().positive().default(24),
  BARRIER_RETENTION_DAYS: z.coerce.number().positive().default(7),
  RETENTION_JOB_INTERVAL_MS: int(10 * 60_000, 1000),

  /** The broker (RabbitMQ). Exchange and queue names start with BROKER_PREFIX: `<prefix>.events`, `<prefix>.<consumer>`. */
  BROKER_URL: z.string().regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL').default('amqp://sagaflow:sagaflow@127.0.0.1:5673/'),
  BROKER_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('sagaflow'),
  /** Whether this process relays its stores' outboxes / runs its services' consumers (worker) or the webhook dispatcher (API). */
  EVENTS_RELAY: bool.default(true),
  EVENTS_CONSUME: bool.default(true),
  RELAY_BATCH_SIZE: int(200, 1, 5000),
  RELAY_POLL_MS: int(200, 10),
  OUTBOX_RETENTION_HOURS: z.coerce.number().positive().default(24),
  INBOX_RETENTION_DAYS: z.coerce.number().positive().default(7),
  /** The API store: finished webhook deliveries (delivered or failed) and dead letters (replayed or not) are purged after these. */
  WEBHOOK_DELIVERY_RETENTION_DAYS: z.coerce.number().positive().default(7),
  DEAD_LETTER_RETENTION_DAYS: z.coerce.number().positive().default(30),
  CONSUMER_MAX_ATTEMPTS: int(5, 1, 100),
  CONSUMER_RETRY_BASE_MS: int(1_000, 1),
  CONSUMER_RETRY_MAX_MS: int(60_000, 1),
  WEBHOOKS_DISPATCH: bool.default(true),
  WEBHOOK_TIMEOUT_MS: int(10_000, 100),
  /** A delivery is retried with exponential backoff (base … max) until this long after the event, then marked failed. */
  WEBHOOK_RETRY_FOR_MS: int(24 * 3600_000, 100),
  WEBHOOK_BACKOFF_BASE_MS: int(5_000, 10),
  WEBHOOK_BACKOFF_MAX_MS: int(3600_000, 10),
  WEBHOOK_POLL_MS: int(500, 10),

  STEP_START_TO_CLOSE_MS: int(10_000, 100),
  STEP_SCHEDULE_TO_CLOSE_MS: int(120_000, 100),
  COMPENSATION_STUCK_AFTER_MS: int(5 * 60_000, 100),
  APPROVAL_THRESHOLD: int(1_000_000, 0),
  APPROVAL_TIMEOUT_MS: int(24 * 3600_000, 100),
  POINTS_PER_MINOR_UNITS: int(100, 1),
  MERCHANT_ACCOUNT_ID: z.string().default('merchant'),
  /** Sales in a currency spread over this many merchant sub-accounts (1 = a single, hot, row). */
  MERCHANT_SUB_ACCOUNTS: int(16, 1, 256),
  /** Batched mode: `batched` groups the transfers an API process receives within a moment into one workflow run. */
  TRANSFER_MODE: z.enum(['batched', 'single']).default('batched'),
  /**
   * Most transfers in one batch. At most 40: the run's TransferId search attribute lists them all, and Temporal limits
   * one search attribute value to 2 KB by default (40 ids of ~45 bytes).
   */
  TRANSFER_BATCH_MAX_SIZE: int(32, 1, 40),
  /**
   * Under load (batches of this process still running), how long a new batch waits for company after its first
   * transfer; at low load it never waits. 0: never (it fills only while the previous batch starts).
   */
  TRANSFER_BATCH_LINGER_MS: int(30, 0, 1000),
  /** Batch starts one API process has in flight at once (requests meanwhile gather in the next batch). */
  TRANSFER_BATCH_MAX_STARTING: int(1, 1, 64),
  /** The guarantee of a transfer whose request names none: saga, tcc or xa (see the README, "Choosing a guarantee"). */
  TRANSFER_CONSISTENCY: z.enum(['saga', 'tcc', 'xa']).default('saga'),
  /** The XA recovery job (every ledger worker): a prepared branch older than this is resolved from its flow's decision. */
  XA_RECOVERY_AFTER_MS: int(60_000, 100),
  XA_RECOVERY_INTERVAL_MS: int(30_000, 100),

  /** Settings in dotenv form layered over the environment; re-read on SIGHUP and when the file changes (hot reload). */
  CONFIG_FILE: z.string().optional(),
  /** npm run dev's supervisor keeps its restart counts here (JSON { process: restarts }); the API's /metrics shows them. */
  SUPERVISOR_STATE_FILE: z.string().optional(),
  /** Hosts a webhook URL may name (`example.com`, or `*.example.com` for its subdomains); empty = any the URL guard allows. */
  WEBHOOK_URL_ALLOW: list,
  /** The DTM-protocol endpoints (/api/dtmsvr) also on a listener of their own (DTM's default is 36789). */
  DTM_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** The DTM endpoints without the API key, as DTM itself (it has no auth; deployments rely on the network). */
  DTM_OPEN: bool.default(false),
  /** Production: branch URLs must match one of these patterns (`*` within the host or port, any run in the path). */
  DTM_BRANCH_URL_ALLOW: list,
});

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
      batch: { maxSize: e.TRANSFER_BATCH_MAX_SIZE, lingerMs: e.TRANSFER_BATCH_LINGER_MS, maxInFlight: e.TRANSFER_BATCH_MAX_STARTING },
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
