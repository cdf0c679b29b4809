// The broker (RabbitMQ, through rabbitmq-client: reconnects by itself, publisher confirms, consumer recovery). One
// durable topic exchange `<prefix>.events` carries every event, routed by its type (`order.confirmed`); each consumer
// owns a durable queue `<prefix>.<consumer>` bound to the types it reads, retry queues `<queue>.retry.<ms>`, one per backoff delay (messages wait
// there for their backoff, then dead-letter back into the queue) and a dead-letter queue `<queue>.dead`.
import { Connection } from 'rabbitmq-client';
import type { Config } from '../config';
import type { Logger } from './logger';

export interface BrokerNames {
  exchange: string;
  queue(consumer: string): string;
  retry(consumer: string): string;
  dead(consumer: string): string;
}

export function brokerNames(prefix: string): BrokerNames {
  return {
    exchange: `${prefix}.events`,
    queue: (c) => `${prefix}.${c}`,
    retry: (c) => `${prefix}.${c}.retry`,
    dead: (c) => `${prefix}.${c}.dead`,
  };
}

export type Broker = Connection;

/** A connection that keeps reconnecting (backoff 100 ms … 5 s) until closed; errors are logged, never thrown. */
export function connectBroker(config: Config['broker'], log: Logger, name = 'sagaflow'): Broker {
  const rabbit = new Connection({ url: config.url, connectionName: name, retryLow: 100, retryHigh: 5_000, heartbeat: 10 });
  let down = false;
  rabbit.on('error', (err) => {
    if (!down) log.warn({ error: String((err as Error)?.message ?? err) }, 'broker connection lost; reconnecting');
    down = true;
  });
  rabbit.on('connection', () => {
    if (down) log.info('broker connection re-established');
    down = false;
  });
  return rabbit;
}

export const exchangeDecl = (names: BrokerNames) => ({ exchange: names.exchange, type: 'topic', durable: true });
