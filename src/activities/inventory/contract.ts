// The inventory's sandbox-safe face: its task queue, DTOs, error types and activity types.
import type { Branch } from '../../platform/activity';
import type { BarrierOutcome } from '../../platform/barrier';

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

export type StockStep = Branch & StockLine;

/** The inventory's activities on its task queue: pricing (read-only) and stock as a TCC participant, one line a call. */
export interface InventoryActivities {
  /** Current prices of the lines, all in one currency. */
  priceItems(q: { items: StockLine[] }): Promise<PricedItems>;
  reserveStock(step: StockStep): Promise<{ outcome: BarrierOutcome }>;
  commitStock(step: StockStep): Promise<{ outcome: BarrierOutcome }>;
  releaseStock(step: StockStep): Promise<{ outcome: BarrierOutcome }>;
}
