// The loyalty domain's writes. awardPoints (a saga step of the tip flow) awards once, barrier-guarded. Orders' points
// come from events instead (consumers below): `order.confirmed` awards floor(total / POINTS_PER_MINOR_UNITS), and
// `order.cancelled` takes an award back if one was made. Each effect records `points.awarded` / `points.revoked` in
// loyalty's outbox in its own transaction (the consumer's, with its inbox row).
import type { Sequelize, Transaction } from 'sequelize';
import { branch } from '../../platform/activity';
import { withBarrier } from '../../platform/barrier';
import type { EventHandler } from '../../platform/consumer';
import { exec, select } from '../../platform/db/sql';
import { newEvent, parseEvent, type EventEnvelope } from '../../platform/events';
import { recordEvent } from '../../platform/outbox';
import { OrderCancelled, OrderConfirmed, PointsAwarded, PointsRevoked } from '../../events/catalog';
import type { LoyaltyActivities, PointsAward } from './contract';

async function award(db: Sequelize, t: Transaction, { orderId, customerId, points }: Omit<PointsAward, 'branchId'>): Promise<boolean> {
  const n = await exec(db, `INSERT IGNORE INTO points_entries (customer_id, order_id, points, kind, created_at) VALUES (?, ?, ?, 'award', NOW(3))`, [customerId, orderId, points], t);
  if (n === 1) await recordEvent(db, t, newEvent(PointsAwarded, customerId, { customerId, orderId, points }));
  return n === 1;
}

export function createLoyaltyActivities({ db }: { db: Sequelize }): LoyaltyActivities {
  return {
    async awardPoints({ branchId, orderId, customerId, points }: PointsAward) {
      const r = await withBarrier(db, branch(branchId), 'action', async (t) => {
        if (points > 0) await award(db, t, { orderId, customerId, points });
      });
      return { outcome: r.outcome };
    },
  };
}

/** loyalty-orders: points for confirmed orders, taken back for cancelled ones. Runs inside the consumer's transaction. */
export function orderEventsHandler({ db, pointsPerMinorUnits }: { db: Sequelize; pointsPerMinorUnits: number }): EventHandler {
  return async (raw: EventEnvelope, t: Transaction) => {
    if (raw.type === OrderConfirmed.type) {
      const e = parseEvent(OrderConfirmed, raw);
      await award(db, t, { orderId: e.data.orderId, customerId: e.data.customerId, points: Math.floor(e.data.total / pointsPerMinorUnits) });
      return;
    }
    if (raw.type === OrderCancelled.type) {
      const e = parseEvent(OrderCancelled, raw);
      const [a] = await select<{ points: number; customer_id: string }>(
        db,
        `SELECT points, customer_id FROM points_entries WHERE order_id = ? AND kind = 'award' FOR UPDATE`,
        [e.data.orderId],
        t,
      );
      if (!a) return; // nothing was awarded: nothing to take back
      const points = Number(a.points);
      const n = await exec(
        db,
        `INSERT IGNORE INTO points_entries (customer_id, order_id, points, kind, created_at) VALUES (?, ?, ?, 'revoke', NOW(3))`,
        [a.customer_id, e.data.orderId, -points, ],
        t,
      );
      if (n === 1) await recordEvent(db, t, newEvent(PointsRevoked, a.customer_id, { customerId: a.customer_id, orderId: e.data.orderId, points }));
      return;
    }
    throw new Error(`loyalty-orders does not handle ${raw.type}`);
  };
}
