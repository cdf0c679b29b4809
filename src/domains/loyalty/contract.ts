// The loyalty domain's sandbox-safe face: its task queue, DTOs and activity types.
import type { createLoyaltyActivities } from './activities';

export const loyaltyQueue = (prefix: string) => `${prefix}-loyalty`;

export interface PointsAward {
  branchId: string;
  orderId: string;
  customerId: string;
  points: number;
}

export type LoyaltyActivities = ReturnType<typeof createLoyaltyActivities>;
