// Database errors that say nothing about the message or request being handled — the server is unreachable, restarting,
// out of connections, or chose this transaction as a deadlock victim — and pass once the database is back. A consumer
// retries them without counting an attempt: a database restart must not send good messages to the dead-letter queue.
import { BaseError, ConnectionError, TimeoutError } from 'sequelize';

const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
]);

export function isTransientDbError(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof TimeoutError) return true;
  const e = err as { code?: string; fatal?: boolean; parent?: { code?: string; fatal?: boolean }; original?: { code?: string; fatal?: boolean } };
  const driver = e?.parent ?? e?.original ?? e;
  // mysql2 marks every error that ended its connection fatal (a socket the server closed mid-query, whatever its code).
  if (err instanceof BaseError && driver?.fatal === true) return true;
  const code = driver?.code;
  return (err instanceof BaseError || typeof e?.code === 'string') && transientCodes.has(code ?? '');
}
