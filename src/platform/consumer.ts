// Consumers, exactly once in effect. A message is at-least-once (a relay may publish twice; a consumer that dies
// before its ack gets it again), so each consumer records the event id in an `inbox` table of its own database in the
// same local transaction as its effect, and acks only after that commit: a redelivery finds its id and is acked with
// no second effect.
//
// A failing message is not requeued in place (it would spin): it is republished, with its attempt count, to the
// consumer's retry queue with an expiration (exponential backoff); expired, it dead-letters back into the queue. After
// `maxAttempts` failures (a database that is unreachable does not count: see db/transient.ts) it goes to the dead-letter queue `<queue>.dead`, where the dead-letter keeper (dead-letters.ts)
// records it for operators to list and replay. Republish first, ack after: a crash in between leaves a duplicate,
// which the inbox absorbs.
import { randomUUID } from 'node:crypto';
import type { Sequelize, Transaction } from 'sequelize';
import { ConsumerStatus, type AsyncMessage, type Consumer, type Publisher } from 'rabbitmq-client';
import { expBackoff } from './backoff';
import { retryLockConflicts } from './barrier';
import { valueOf, type Live } from './config-reload';
import { exchangeDecl, type Broker, type BrokerNames } from './broker';
import { within } from './timeout';
import { deleteInBatches, exec } from './db/sql';
import { isTransientDbError } from './db/transient';
import type { EventEnvelope } from './events';
import type { Logger } from './logger';

export const inboxTable = `CREATE TABLE inbox (
  consumer VARCHAR(64) NOT NULL,
  event_id VARCHAR(64) NOT NULL,
  received_at DATETIME(3) NOT NULL,
  PRIMARY KEY (consumer, event_id),
  KEY inbox_age (received_at)
)`;

export const ATTEMPTS_HEADER = 'x-sagaflow-attempts';
export const ERROR_HEADER = 'x-sagaflow-error';
export const DEAD_ID_HEADER = 'x-sagaflow-dead-id';
/** Transient failures so far (a database down): they set the backoff, never the attempt count. */
export const TRANSIENT_HEADER = 'x-sagaflow-transient';

/** What a consumer does with one event, inside the transaction that also writes its inbox row. */
export type EventHandler = (event: EventEnvelope, t: Transaction) => Promise<void>;

export interface ConsumerSpec {
  /** Unique per consumer: names its queues and its inbox rows (`loyalty-orders`). */
  name: string;
  /** Routing keys (event types, or `#` for every event). */
  bindings: string[];
  handle: EventHandler;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export interface ConsumerOptions {
  rabbit: Broker;
  /** A topologyPublisher: it declares the retry and dead-letter queues this consumer republishes to. */
  publisher: Publisher;
  names: BrokerNames;
  db: Sequelize;
  spec: ConsumerSpec;
  /** A function: read once per message (CONSUMER_* change live). */
  retry: Live<RetryPolicy>;
  log: Logger;
  prefetch?: number;
  /** Test seam: runs after the effect committed, before the ack. */
  afterCommit?: (event: EventEnvelope) => Promise<void>;
}

export type ConsumeOutcome = 'applied' | 'duplicate';

/** The backoff before attempt `attempt + 1` (attempt ≥ 1). */
export const retryDelay = (attempt: number, p: RetryPolicy, random = Math.random) => expBackoff(attempt, p.baseMs, p.maxMs, random);

/** Applies `event` once: the inbox row and the handler's effect in one transaction. */
export async function applyOnce(db: Sequelize, consumer: string, event: EventEnvelope, handle: EventHandler): Promise<ConsumeOutcome> {
  return retryLockConflicts(() =>
    db.transaction(async (t) => { // READ COMMITTED: every connection's level (db/sequelize.ts)
      const fresh = await exec(db, 'INSERT IGNORE INTO inbox (consumer, event_id, received_at) VALUES (?, ?, NOW(3))', [consumer, event.id], t);
      if (fresh !== 1) return 'duplicate' as const;
      await handle(event, t);
      return 'applied' as const;
    }),
  );
}

function bodyOf(msg: AsyncMessage): EventEnvelope {
  const b = msg.body;
  const parsed = Buffer.isBuffer(b) ? JSON.parse(b.toString('utf8')) : typeof b === 'string' ? JSON.parse(b) : b;
  if (!parsed || typeof parsed !== 'object' || typeof parsed.id !== 'string') throw new Error('not an event envelope (no id)');
  return parsed as EventEnvelope;
}

/**
 * The retry queue of one backoff delay: a message waits there `ttlMs` (a queue-wide TTL, so messages expire in the
 * order they came: one long delay never holds up a shorter one behind it, as per-message expirations in one shared
 * queue would), then dead-letters back into the consumer's queue. Declared when first needed.
 */
export function retryQueue(names: BrokerNames, consumer: string, ttlMs: number) {
  return {
    queue: `${names.retry(consumer)}.${ttlMs}`,
    durable: true,
    arguments: { 'x-message-ttl': ttlMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.queue(consumer) },
  };
}

/** Queue declarations of a consumer: its queue, bound to its types, and its dead-letter queue (retry queues: retryQueue). */
export function consumerQueues(names: BrokerNames, consumer: string) {
  return {
    queue: { queue: names.queue(consumer), durable: true },
    dead: { queue: names.dead(consumer), durable: true },
  };
}

export function startConsumer(o: ConsumerOptions): Consumer {
  const { names, spec, log } = o;
  const decl = consumerQueues(names, spec.name);
  const consumer = o.rabbit.createConsumer(
    {
      queue: decl.queue.queue,
      queueOptions: { durable: true },
      qos: { prefetchCount: o.prefetch ?? 20 },
      concurrency: o.prefetch ?? 20,
      exchanges: [exchangeDecl(names)],
      queueBindings: spec.bindings.map((routingKey) => ({ exchange: names.exchange, queue: decl.queue.queue, routingKey })),
      requeue: true,
    },
    async (msg) => {
      const attempts = Number(msg.headers?.[ATTEMPTS_HEADER] ?? 0);
      const retry = valueOf(o.retry);
      let event: EventEnvelope | undefined;
      try {
        event = bodyOf(msg);
        await applyOnce(o.db, spec.name, event, spec.handle);
        await o.afterCommit?.(event);
        return ConsumerStatus.ACK;
      } catch (err) {
        // A database that is down fails every message alike: retried with backoff for as long as it takes, not counted.
        const transient = isTransientDbError(err);
        const transients = Number(msg.headers?.[TRANSIENT_HEADER] ?? 0) + (transient ? 1 : 0);
        const failed = transient ? attempts : attempts + 1;
        const reason = String((err as Error)?.message ?? err).slice(0, 500);
        const dead = !transient && failed >= retry.maxAttempts;
        const headers = {
          ...(msg.headers ?? {}),
          [ATTEMPTS_HEADER]: failed,
          [TRANSIENT_HEADER]: transients,
          [ERROR_HEADER]: reason,
          ...(dead ? { [DEAD_ID_HEADER]: randomUUID() } : {}),
        };
        // One retry queue per delay (no jitter, so a level is one queue): base·2^(n−1), capped.
        const delay = retryDelay(transient ? transients : failed, retry, () => 0.5);
        let target = decl.dead.queue;
        if (!dead) {
          const retry = retryQueue(names, spec.name, delay);
          await within(10_000, o.rabbit.queueDeclare(retry), 'declare retry queue');
          target = retry.queue;
        }
        // Republish (confirmed) before the ack; should that fail, the message is requeued and tried again.
        await within(
          10_000,
          o.publisher.send(
            {
              exchange: '',
              routingKey: target,
              durable: true,
              messageId: msg.messageId,
              type: msg.type,
              contentType: 'application/json',
              headers,
            },
            msg.body,
          ),
          'republish',
        );
        const fields = { consumer: spec.name, eventId: event?.id ?? msg.messageId, type: msg.type, attempt: failed, error: reason };
        if (dead) log.error(fields, 'event dead-lettered after its last attempt');
        else log.warn(fields, 'event handling failed; retrying later');
        return ConsumerStatus.ACK;
      }
    },
  );
  consumer.on('error', (err) => log.warn({ consumer: spec.name, error: String((err as Error)?.message ?? err) }, 'consumer error'));
  return consumer;
}

/** Which consumers exist and what they read: their queues are declared by every publisher, so no event is routed to nowhere. */
export type Topology = Array<Pick<ConsumerSpec, 'name' | 'bindings'>>;

/**
 * A confirming publisher that declares, on every (re)connect, the events exchange and every consumer's queues and
 * bindings: a message confirmed by the broker is then in each queue that reads its type, even if that consumer has
 * never run yet.
 */
export function topologyPublisher(rabbit: Broker, names: BrokerNames, topology: Topology): Publisher {
  const queues = topology.flatMap((c) => Object.values(consumerQueues(names, c.name)));
  const queueBindings = topology.flatMap((c) => c.bindings.map((routingKey) => ({ exchange: names.exchange, queue: names.queue(c.name), routingKey })));
  return rabbit.createPublisher({ confirm: true, maxAttempts: 1, exchanges: [exchangeDecl(names)], queues, queueBindings });
}

/** Deletes inbox rows older than `olderThan`: past it a redelivery is not expected any more (the retention job). */
export function purgeInbox(db: Sequelize, olderThan: Date): Promise<number> {
  return deleteInBatches(db, 'inbox', 'received_at < ?', [olderThan]);
}
