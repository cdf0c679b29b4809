// The orders domain's sandbox-safe face: its task queue, DTOs, error types and activity types.
import type { createOrderActivities } from './activities';

export const OrderErrors = {
  CurrencyMismatch: 'CurrencyMismatch',
  /** The order's total is beyond what one payment may move (10^12 minor units). */
  TotalTooLarge: 'TotalTooLarge',
} as const;

export const ordersQueue = (prefix: string) => `${prefix}-orders`;

export type OrderStatus = 'PENDING' | 'AWAITING_APPROVAL' | 'CONFIRMED' | 'CANCELLED' | 'FAILED';

export interface OrderLineDto {
  sku: string;
  quantity: number;
  price: number;
}

export interface NewOrder {
  id: string;
  customerId: string;
  paymentAccountId: string;
  /** Priced lines and the currency they are priced in (from the inventory). */
  items: OrderLineDto[];
  currency: string;
  /** The payment account's currency (from the ledger): an order is only accepted when the two agree. */
  accountCurrency: string;
}

/** What an order is before it is priced: enough for its row when it is refused that early. */
export interface OrderHeader {
  id: string;
  customerId: string;
  paymentAccountId: string;
  items: Array<{ sku: string; quantity: number }>;
}

export interface CreatedOrder {
  total: number;
  currency: string;
  items: OrderLineDto[];
}

/** The most one order may total, in minor units: the largest amount one payment may move. */
export const MAX_ORDER_TOTAL = 1_000_000_000_000n;

export type OrderActivities = ReturnType<typeof createOrderActivities>;
