// The inventory's sandbox-safe face: its task queue, DTOs, error types and activity types.
import type { createInventoryActivities } from './activities';

export const InventoryErrors = {
  ProductNotFound: 'ProductNotFound',
  OutOfStock: 'OutOfStock',
  /** The lines of one order are priced in more than one currency. */
  MixedCurrencies: 'MixedCurrencies',
} as const;

export const inventoryQueue = (prefix: string) => `${prefix}-inventory`;

export interface StockLine {
  sku: string;
  quantity: number;
}

export interface PricedLine extends StockLine {
  price: number;
}

export interface PricedItems {
  items: PricedLine[];
  currency: string;
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
