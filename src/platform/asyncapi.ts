// The AsyncAPI 3 document of the events (GET /asyncapi.json), generated from the event definitions' zod schemas: one
// channel per event type (its routing key on the topic exchange), one `send` operation each — sagaflow publishes —
// and the envelope with the event's data schema as each message's payload. Webhook bodies are the same JSON.
import { z } from 'zod';
import { envelopeSchema, type EventDef } from './events';

const key = (def: EventDef) => `${def.type.replace(/\./g, '_')}_v${def.version}`;

function jsonSchema(schema: z.ZodType) {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as Record<string, unknown>;
  return rest;
}

export function asyncApiDocument(events: readonly EventDef[], o: { exchange: string; version: string; host: string }) {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const def of events) {
    const k = key(def);
    messages[k] = {
      name: def.type,
      title: `${def.type} v${def.version}`,
      summary: def.summary,
      contentType: 'application/json',
      payload: jsonSchema(envelopeSchema(def)),
      bindings: { amqp: { messageType: def.type, bindingVersion: '0.3.0' } },
    };
    channels[k] = {
      address: def.type,
      title: def.type,
      description: `${def.summary} Aggregate: ${def.aggregate}. Routing key \`${def.type}\` on the topic exchange \`${o.exchange}\`.`,
      messages: { [k]: { $ref: `#/components/messages/${k}` } },
      bindings: {
        amqp: { is: 'routingKey', exchange: { name: o.exchange, type: 'topic', durable: true, autoDelete: false, vhost: '/' }, bindingVersion: '0.3.0' },
      },
    };
    operations[`publish_${k}`] = {
      action: 'send',
      summary: `Published after the change commits (transactional outbox), persistent, publisher-confirmed`,
      channel: { $ref: `#/channels/${k}` },
      messages: [{ $ref: `#/channels/${k}/messages/${k}` }],
      bindings: { amqp: { deliveryMode: 2, bindingVersion: '0.3.0' } },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'sagaflow events',
      version: o.version,
      description:
        'Events every domain publishes through its transactional outbox. The same JSON envelope is the body of webhook deliveries (signed: Sagaflow-Signature).',
    },
    defaultContentType: 'application/json',
    servers: { broker: { host: o.host, protocol: 'amqp', protocolVersion: '0.9.1', description: 'RabbitMQ (BROKER_URL)' } },
    channels,
    operations,
    components: { messages },
  };
}
