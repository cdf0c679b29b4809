// The event machinery of a process, assembled from the registries: which consumers exist (their queues are declared by
// every publisher, so an event is never routed to nowhere), and, for a worker, one outbox relay per store it serves
// plus the consumers of the services it serves. The webhook fan-out consumer belongs to the API (platform/webhooks).
import type { Config } from './config';
import type { LiveConfig } from './platform/config-reload';
import { serviceNamed, services } from './activities';
import { brokerNames, connectBroker, type Broker } from './platform/broker';
import { startConsumer, topologyPublisher, type EventHandler, type Topology } from './platform/consumer';
import type { Logger } from './platform/logger';
import { startRelay, type RelayHandle } from './platform/outbox';
import type { OpenStore } from './platform/stores';
import { within } from './platform/timeout';
import type { Sequelize } from 'sequelize';
import { startDeadLetterKeeper } from './platform/dead-letters';
import { startWebhookDispatcher } from './platform/webhooks/dispatch';
import { Keyring } from './platform/codec/keyring';
import { WEBHOOKS_CONSUMER, webhookFanout } from './platform/webhooks/fanout';

export function eventTopology(): Topology {
  return [...services.flatMap((d) => (d.consumers ?? []).map(({ name, bindings }) => ({ name, bindings }))), { name: WEBHOOKS_CONSUMER, bindings: ['#'] }];
}

/** Every consumer name, for the dead-letter keeper and the operators' routes. */
export const consumerNames = () => eventTopology().map((c) => c.name);

export interface DomainEvents {
  rabbit: Broker;
  stop(): Promise<void>;
}

export interface DomainEventsOptions {
  config: Config;
  /** Hot reload: consumers read their retry policy from it per message. */
  live?: LiveConfig;
  stores: OpenStore[];
  log: Logger;
  /** Test seam, passed to every consumer. */
  afterCommit?: Parameters<typeof startConsumer>[0]['afterCommit'];
  relay?: boolean;
  consume?: boolean;
  /** Test seam: wraps each consumer's handler (fault injection). */
  wrapHandler?: (consumer: string, handle: EventHandler) => EventHandler;
}

/** Relays the outbox of each store and runs the consumers of each store's domain (as configured). */
export function startDomainEvents(o: DomainEventsOptions): DomainEvents {
  const { config, log } = o;
  const names = brokerNames(config.broker.prefix);
  const rabbit = connectBroker(config.broker, log, 'sagaflow-worker');
  const publisher = topologyPublisher(rabbit, names, eventTopology());
  const relays: RelayHandle[] = [];
  const consumers: Array<{ close(): Promise<void> }> = [];
  for (const store of o.stores) {
    if (o.relay ?? config.events.relay) {
      relays.push(
        startRelay(store.db, publisher, names, {
          batchSize: config.events.relayBatchSize,
          pollMs: config.events.relayPollMs,
          publishTimeoutMs: 10_000,
          unit: store.unit,
          log,
        }),
      );
    }
    if (!(o.consume ?? config.events.consume) || store.index !== 0) continue;
    for (const c of serviceNamed(store.domain).consumers ?? []) {
      consumers.push(
        startConsumer({
          rabbit,
          publisher,
          names,
          db: store.db,
          spec: { name: c.name, bindings: c.bindings, handle: (o.wrapHandler ?? ((_n, h) => h))(c.name, c.handler({ store, config })) },
          retry: liveRetry(config, o.live),
          log,
          afterCommit: o.afterCommit,
        }),
      );
    }
  }
  return {
    rabbit,
    async stop() {
      await Promise.all(relays.map((r) => r.stop()));
      await closeBroker(rabbit, [...consumers, publisher]);
    },
  };
}

export interface ApiEvents {
  broker: { publisher: ReturnType<typeof topologyPublisher>; names: ReturnType<typeof brokerNames> };
  stop(): Promise<void>;
}

/**
 * The API's share: the webhook fan-out consumer (its inbox in the API's database), the dead-letter keeper of every
 * consumer, and the webhook dispatcher — each as configured — plus the publisher operators' replays use.
 */
const liveRetry = (config: Config, live?: LiveConfig) => (live ? () => live.current().config.events.retry : config.events.retry);

export function startApiEvents({ config, live, db, log }: { config: Config; live?: LiveConfig; db: Sequelize; log: Logger }): ApiEvents {
  const names = brokerNames(config.broker.prefix);
  const rabbit = connectBroker(config.broker, log, 'sagaflow-api');
  const publisher = topologyPublisher(rabbit, names, eventTopology());
  const closers: Array<{ close(): Promise<void> } | { stop(): Promise<void> }> = [];
  if (config.events.consume) {
    closers.push(
      startConsumer({ rabbit, publisher, names, db, spec: { name: WEBHOOKS_CONSUMER, bindings: ['#'], handle: webhookFanout(db) }, retry: liveRetry(config, live), log }),
      ...startDeadLetterKeeper(rabbit, names, db, consumerNames(), log),
    );
  }
  const now = () => live?.current().config ?? config;
  const policy = () => ({ production: config.env === 'production', allowHosts: now().allow.webhookHosts });
  if (config.webhooks.dispatch) closers.push(startWebhookDispatcher(db, () => now().webhooks, policy, log, undefined, new Keyring(config.codec.keys)));
  return {
    broker: { publisher, names },
    async stop() {
      await Promise.all(closers.filter((c) => 'stop' in c).map((c) => (c as { stop(): Promise<void> }).stop()));
      await closeBroker(rabbit, [...closers.filter((c) => 'close' in c), publisher] as Array<{ close(): Promise<void> }>);
    },
  };
}

/**
 * Closes consumers (they finish the message in hand), the publisher and the connection — within a bound: when the
 * broker is down too (a whole stack stopping at once) the client would wait for a reconnect that never comes. An
 * unacked message is redelivered; the inbox makes that harmless.
 */
async function closeBroker(rabbit: Broker, parts: Array<{ close(): Promise<void> }>): Promise<void> {
  await within(5_000, Promise.all(parts.map((p) => p.close())), 'closing consumers').catch(() => undefined);
  await within(5_000, rabbit.close(), 'closing the broker connection').catch(() => undefined);
}
