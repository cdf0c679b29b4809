// Inventory: nothing negative, nothing reserved once every order ended, and each product's stock its initial stock
// less the units of the CONFIRMED orders.
export default {
  name: 'stock',
  check({ products, seed, confirmedQty }, v, summary) {
    summary.stock = {};
    for (const p of products) {
      if (p.stock < 0 || p.reserved < 0 || p.reserved > p.stock) v('negative-stock', { sku: p.sku, stock: p.stock, reserved: p.reserved });
      else if (p.reserved !== 0) v('reserved-left', { sku: p.sku, reserved: p.reserved });
      const expected = (seed.initialStock[p.sku] ?? 0) - (confirmedQty[p.sku] ?? 0);
      summary.stock[p.sku] = { initial: seed.initialStock[p.sku], confirmed: confirmedQty[p.sku] ?? 0, stock: p.stock, reserved: p.reserved };
      if (p.stock !== expected) v('stock-mismatch', { sku: p.sku, expected, actual: p.stock });
    }
  },
};
