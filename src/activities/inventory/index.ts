// The inventory domain: products, stock and reservations, in its own database on its own task queue.
import { singleStore, type ServiceDefinition } from '../../platform/service';
import { exec } from '../../platform/db/sql';
import { createInventoryActivities } from './activities';
import * as m0001 from './migrations/0001-inventory';
import * as m0003 from './migrations/0003-outbox';
import * as m0004 from './migrations/0004-outbox-heads';
import { productsRouter } from './routes';

export const inventory: ServiceDefinition = {
  name: 'inventory',
  stores: (config) => singleStore('inventory', config.db.urls.inventory),
  migrations: [
    { name: '0001-inventory', ...m0001 },
    { name: '0003-outbox', ...m0003 },
    { name: '0004-outbox-heads', ...m0004 },
  ],
  activities: ({ store }) => createInventoryActivities({ db: store.db }),
  routes: (deps) => [productsRouter(deps)],
  async seed({ db }) {
    let created = 0;
    for (const p of [
      ['demo-widget', 'Widget', 1_999, 1_000],
      ['demo-gadget', 'Gadget (needs approval)', 1_250_000, 10],
    ] as const) {
      created += await exec(
        db,
        `INSERT INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at)
         SELECT ?, ?, ?, 'USD', ?, 0, NOW(3), NOW(3) FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM products WHERE sku = ?)`,
        [...p, p[0]],
      );
    }
    return created;
  },
};
