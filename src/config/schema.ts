// Every setting sagaflow reads, its type, default and bounds (zod): the one schema that start-up and hot reload
// validate with (./index.ts reads the environment and builds the Config from it).
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

export const schema = z.object({
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
  TRANSFER_BATCH_MAX_SIZE: int(40, 1, 40),
  /**
   * Under load (at least TRANSFER_BATCH_LINGER_FROM callers of this process waiting on their batches), how long a new
   * batch waits for company after its first transfer; at low load it never waits. 0: never (it fills only while the
   * previous batch starts). Larger batches cost less per transfer: the bench measured it (bench/NOTES.md, 0.5).
   */
  TRANSFER_BATCH_LINGER_MS: int(100, 0, 1000),
  /** Callers waiting (Prefer: wait) on this process's batches from which a new batch lingers for company. */
  TRANSFER_BATCH_LINGER_FROM: int(4, 1, 100_000),
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
