// The orders domain's sandbox-safe face: its task queue, DTOs, error types and activity types.
import type { Branch } from '../../platform/activity';
import type { BarrierOutcome } from '../../platform/barrier';
import type { FlowReason } from '../../platform/workflow/types';

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

/** The exact total of priced lines (BigInt: 50 lines × 1000 units × 10^12 would pass 2^53 as a JS number). */
export function orderTotal(items: Pick<OrderLineDto, 'price' | 'quantity'>[]): bigint {
  return items.reduce((sum, i) => sum + BigInt(i.price) * BigInt(i.quantity), 0n);
}

export interface OrderStatusChange {
  orderId: string;
  status: OrderStatus;
  reason?: FlowReason;
  /** The order as accepted: writes its row when it was refused before it was priced. */
  order?: OrderHeader;
}

/** The orders service's activities on its task queue. */
export interface OrderActivities {
  /** The order row, PENDING; a retry returns what the first attempt stored. */
  createOrder(step: Branch & { order: NewOrder }): Promise<CreatedOrder>;
  /** The order CONFIRMED, once, with `order.confirmed` in its outbox. */
  confirmOrder(step: Branch & { orderId: string }): Promise<{ outcome: BarrierOutcome }>;
  /** A non-final or failed status; never overwrites CONFIRMED. */
  setOrderStatus(change: OrderStatusChange): Promise<void>;
}
