// Where sagaflow's databases live: which of the two MariaDB servers holds which database, and the environment variables
// (read by src/config/) that carry their URLs. The split puts every flow across both servers: a transfer touches
// both ledger shards, a checkout orders (A) and inventory/loyalty (B), so a test run exercises cross-server behaviour.

/** The project-owned servers, in start order. `portVar` is the dev port setting, `defaultPort` its default. */
export const SERVERS = [
  { name: 'a', portVar: 'MARIADB_PORT', defaultPort: 3307 },
  { name: 'b', portVar: 'MARIADB_SECOND_PORT', defaultPort: 3308 },
];

/** Every grant and database name starts with this; mariadb.mjs grants the app user `sagaflow` and `sagaflow\_%`. */
export const DATABASE_PREFIX = 'sagaflow';

/**
 * The databases, by role. `shard` orders the ledger shards inside LEDGER_DATABASE_URLS (comma-separated, shard order).
 * The name of each is `<prefix>_<role>`, e.g. sagaflow_ledger_0.
 */
export const DATABASES = [
  { role: 'ledger_0', server: 'a', envVar: 'LEDGER_DATABASE_URLS', shard: 0 },
  { role: 'orders', server: 'a', envVar: 'ORDERS_DATABASE_URL' },
  { role: 'api', server: 'a', envVar: 'API_DATABASE_URL' },
  { role: 'dtm', server: 'a', envVar: 'DTM_DATABASE_URL' },
  { role: 'ledger_1', server: 'b', envVar: 'LEDGER_DATABASE_URLS', shard: 1 },
  { role: 'inventory', server: 'b', envVar: 'INVENTORY_DATABASE_URL' },
  { role: 'loyalty', server: 'b', envVar: 'LOYALTY_DATABASE_URL' },
];

/** Every URL variable the placement sets, in the order of DATABASES. */
export const DATABASE_ENV_VARS = [...new Set(DATABASES.map((db) => db.envVar))];

export const databaseName = (role, prefix = DATABASE_PREFIX) => `${prefix}_${role}`;

/**
 * `url` with its path replaced by `/<database>` (user, password, host and query parameters kept); '' = no database.
 * Commas are percent-encoded (the URL parser leaves them alone in a password) so LEDGER_DATABASE_URLS splits cleanly.
 */
export function withDatabase(url, database = '') {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString().replaceAll(',', '%2C');
}

/**
 * The environment variable map for a placement. `serverUrlOf(serverName)` gives the server's URL (any path; it is
 * replaced); `prefix` names the databases (a unique one for tests sharing an external server).
 * @returns {{ LEDGER_DATABASE_URLS: string, INVENTORY_DATABASE_URL: string, ORDERS_DATABASE_URL: string, LOYALTY_DATABASE_URL: string, API_DATABASE_URL: string, DTM_DATABASE_URL: string }}
 */
export function databaseEnvFor(serverUrlOf, prefix = DATABASE_PREFIX) {
  const ledger = [];
  const env = {};
  for (const db of DATABASES) {
    const url = withDatabase(serverUrlOf(db.server), databaseName(db.role, prefix));
    if (db.envVar === 'LEDGER_DATABASE_URLS') ledger[db.shard] = url;
    else env[db.envVar] = url;
  }
  return { LEDGER_DATABASE_URLS: ledger.join(','), ...env };
}

/** The URL with its password replaced by ***, for banners and logs. */
export function maskUrl(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
