// Structured JSON logs (pino). Redaction keeps credentials out even if a caller logs a header object by mistake.
import pino from 'pino';
import type { Config } from '../config';

export function logger(config: Pick<Config, 'logLevel'>) {
  return pino({
    level: config.logLevel,
    base: { service: 'sagaflow' },
    redact: ['authorization', 'req.headers.authorization', '*.apiKey', '*.password', 'idempotencyKey'],
  });
}

export type Logger = ReturnType<typeof logger>;
