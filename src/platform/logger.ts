// Structured JSON logs (pino). Redaction keeps credentials out even if a caller logs a header object by mistake.
// Every logger made here and every child of it is remembered (weakly), so setLogLevel changes the level of them all
// (hot reload: LOG_LEVEL).
import pino from 'pino';
import type { Config } from '../config';

const made = new Set<WeakRef<pino.Logger>>();
const remember = (l: pino.Logger) => void made.add(new WeakRef(l));

export function logger(config: Pick<Config, 'logLevel'>) {
  const root = pino({
    level: config.logLevel,
    base: { service: 'sagaflow', pid: process.pid }, // the pid: whom to send SIGHUP (hot reload)
    redact: ['authorization', 'req.headers.authorization', '*.apiKey', '*.password', 'idempotencyKey'],
    onChild: remember,
  });
  remember(root);
  return root;
}

/** Sets the level of every logger of this process (those made by logger() and their children). */
export function setLogLevel(level: Config['logLevel']): void {
  for (const ref of made) {
    const l = ref.deref();
    if (l) l.level = level;
    else made.delete(ref);
  }
}

export type Logger = ReturnType<typeof logger>;
