// The loyalty domain: customers' points, in its own database on its own task queue; it reacts to orders' events.
import { singleStore, type ServiceDefinition } from '../../platform/service';
import { OrderCancelled, OrderConfirmed } from '../../events/catalog';
import { createLoyaltyActivities, orderEventsHandler } from './activities';
import * as m0001 from './migrations/0001-loyalty';
import * as m0003 from './migrations/0003-outbox';
import * as m0004 from './migrations/0004-outbox-heads';
import { customersRouter } from './routes';

export const loyalty: ServiceDefinition = {
  name: 'loyalty',
  stores: (config) => singleStore('loyalty', config.db.urls.loyalty),
  migrations: [
    { name: '0001-loyalty', ...m0001 },
    { name: '0003-outbox', ...m0003 },
    { name: '0004-outbox-heads', ...m0004 },
  ],
  activities: ({ store }) => createLoyaltyActivities({ db: store.db }),
  consumers: [
    {
      name: 'loyalty-orders',
      bindings: [OrderConfirmed.type, OrderCancelled.type],
      handler: ({ store, config }) => orderEventsHandler({ db: store.db, pointsPerMinorUnits: config.flows.pointsPerMinorUnits }),
    },
  ],
  routes: (deps) => [customersRouter(deps)],
};
