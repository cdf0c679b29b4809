// Events: what a domain announces about a change it committed. The envelope is the same everywhere — in the outbox
// row, on the broker and as a webhook body: { id, type, version, occurredAt, aggregateId, data }. Each event type is
// defined once (src/events/catalog.ts) with a versioned zod schema of its `data`; the AsyncAPI document and every
// consumer's validation come from those definitions.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  aggregateId: string;
  data: T;
}

export interface EventDef<S extends z.ZodType = z.ZodType> {
  type: string;
  version: number;
  summary: string;
  /** What the aggregate id names (an order id, a transfer id). */
  aggregate: string;
  data: S;
}

export function defineEvent<S extends z.ZodType>(def: EventDef<S>): EventDef<S> {
  return def;
}

/** A new event of `def` about `aggregateId` (a fresh id; the outbox row and the broker message carry it). */
export function newEvent<S extends z.ZodType>(def: EventDef<S>, aggregateId: string, data: z.input<S>, now = new Date()): EventEnvelope<z.output<S>> {
  return { id: randomUUID(), type: def.type, version: def.version, occurredAt: now.toISOString(), aggregateId, data: def.data.parse(data) };
}

/** The envelope's own schema, around a given data schema. */
export function envelopeSchema(def: EventDef) {
  return z.object({
    id: z.uuid(),
    type: z.literal(def.type),
    version: z.literal(def.version),
    occurredAt: z.iso.datetime({ offset: true }),
    aggregateId: z.string().min(1).max(128),
    data: def.data,
  });
}

/** Parses a message body as an event of `def` (throws a ZodError on anything else). */
export function parseEvent<S extends z.ZodType>(def: EventDef<S>, body: unknown): EventEnvelope<z.output<S>> {
  return envelopeSchema(def).parse(body) as EventEnvelope<z.output<S>>;
}
