// The orders domain: orders, their lines and their state, in its own database on its own task queue. Its read routes
// live with the checkout flow (GET /v1/orders/{id} merges the row with the flow's live steps).
import { singleStore, type ServiceDefinition } from '../../platform/service';
import { createOrderActivities } from './activities';
import * as m0001 from './migrations/0001-orders';
import * as m0003 from './migrations/0003-outbox';
import * as m0004 from './migrations/0004-outbox-heads';

export const orders: ServiceDefinition = {
  name: 'orders',
  stores: (config) => singleStore('orders', config.db.urls.orders),
  migrations: [
    { name: '0001-orders', ...m0001 },
    { name: '0003-outbox', ...m0003 },
    { name: '0004-outbox-heads', ...m0004 },
  ],
  activities: ({ store }) => createOrderActivities({ db: store.db }),
};
