// What the bench seeds and recognises again in the audit: its accounts' id prefix and opening balance, the rejection
// paths' accounts, the two products and the API key.
export const PREFIX = 'bench-';
export const INITIAL = 100_000_000_000; // minor units per account: no transfer or order is ever short of funds
export const POOR = 10; // the opening balance of path-poor
export const API_KEY = 'bench-key-0123456789';
// Products (inventory database, server B): one over the approval threshold (the inflight orders park on it), one well
// stocked and cheap (the checkout scenario's line).
export const BIG = { sku: 'bench-big', price: 1_500_000, stock: 1_000_000 };
export const ITEM = { sku: 'bench-item', price: 2_500, stock: 1_000_000_000 };
