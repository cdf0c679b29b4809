// The loyalty domain's activities: award an order's points once (barrier-guarded, one row per order).
import type { Sequelize } from 'sequelize';
import { branch } from '../../platform/activity';
import { withBarrier } from '../../platform/barrier';
import { exec } from '../../platform/db/sql';
import type { PointsAward } from './contract';

export function createLoyaltyActivities({ db }: { db: Sequelize }) {
  return {
    async awardPoints({ branchId, orderId, customerId, points }: PointsAward) {
      const r = await withBarrier(db, branch(branchId), 'action', async (t) => {
        if (points > 0) {
          await exec(db, 'INSERT INTO points_entries (customer_id, order_id, points, created_at) VALUES (?, ?, ?, NOW(3))', [customerId, orderId, points], t);
        }
      });
      return { outcome: r.outcome };
    },
  };
}
