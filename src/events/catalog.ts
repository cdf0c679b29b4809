// Every event sagaflow publishes, in one place: type, version and the zod schema of its data. Contract-only (zod and
// the platform's event helpers, nothing else), so every domain may import it — the one thing services share besides
// the platform. The AsyncAPI document (GET /asyncapi.json) is generated from this list; a breaking change to a shape is
// a new version of the event, published beside the old one until no consumer reads it.
import { z } from 'zod';
import { defineEvent, type EventDef } from '../platform/events';

const Id = z.string().min(1).max(128);
const Amount = z.number().int().nonnegative().describe('minor units of the currency (exact integer)');
const Currency = z.string().regex(/^[A-Z]{3}$/).describe('ISO 4217 code');
const Reason = z.object({ code: z.string(), message: z.string() });

const transfer = {
  transferId: Id,
  fromAccountId: Id,
  toAccountId: Id,
  amount: Amount,
  currency: Currency,
};

export const TransferCompleted = defineEvent({
  type: 'transfer.completed',
  version: 1,
  aggregate: 'transfer',
  summary: 'A transfer completed: the source was debited and the destination credited.',
  data: z.object(transfer),
});

export const TransferCompensated = defineEvent({
  type: 'transfer.compensated',
  version: 1,
  aggregate: 'transfer',
  summary: 'A transfer was refused or undone; no money moved in the end.',
  data: z.object({ ...transfer, reason: Reason.optional() }),
});

export const OrderConfirmed = defineEvent({
  type: 'order.confirmed',
  version: 1,
  aggregate: 'order',
  summary: 'An order was confirmed: stock committed, payment captured.',
  data: z.object({ orderId: Id, customerId: Id, paymentAccountId: Id, total: Amount, currency: Currency }),
});

export const OrderCancelled = defineEvent({
  type: 'order.cancelled',
  version: 1,
  aggregate: 'order',
  summary: 'An order was cancelled (rejected, cancelled on request or not approved in time); every hold was released.',
  data: z.object({ orderId: Id, customerId: Id, reason: Reason.optional() }),
});

export const PointsAwarded = defineEvent({
  type: 'points.awarded',
  version: 1,
  aggregate: 'customer',
  summary: 'Loyalty points were awarded to a customer for an order (or a tip).',
  data: z.object({ customerId: Id, orderId: Id, points: z.number().int().nonnegative() }),
});

export const PointsRevoked = defineEvent({
  type: 'points.revoked',
  version: 1,
  aggregate: 'customer',
  summary: "Points awarded for an order were taken back (the order was cancelled after the award).",
  data: z.object({ customerId: Id, orderId: Id, points: z.number().int().nonnegative() }),
});

export const events: readonly EventDef[] = [TransferCompleted, TransferCompensated, OrderConfirmed, OrderCancelled, PointsAwarded, PointsRevoked];

export const eventTypes = events.map((e) => e.type);

export function eventDef(type: string): EventDef | undefined {
  return events.find((e) => e.type === type);
}
