// The loyalty domain's sandbox-safe face: its task queue, DTOs and activity types.
import type { BarrierOutcome } from '../../platform/barrier';

export const loyaltyQueue = (prefix: string) => `${prefix}-loyalty`;

export interface PointsAward {
  branchId: string;
  orderId: string;
  customerId: string;
  points: number;
}

/** The loyalty service's activities on its task queue (orders' points come from events, not from here). */
export interface LoyaltyActivities {
  /** Awards once, barrier-guarded (the tip flow's step). */
  awardPoints(award: PointsAward): Promise<{ outcome: BarrierOutcome }>;
}
