// The loyalty domain: customers' points, in its own database on its own task queue.
import { singleStore, type DomainDefinition } from '../../platform/domain';
import { createLoyaltyActivities } from './activities';
import * as m0001 from './migrations/0001-loyalty';
import { customersRouter } from './routes';

export const loyalty: DomainDefinition = {
  name: 'loyalty',
  stores: (config) => singleStore('loyalty', config.db.urls.loyalty),
  migrations: [{ name: '0001-loyalty', ...m0001 }],
  activities: ({ store }) => createLoyaltyActivities({ db: store.db }),
  routes: (deps) => [customersRouter(deps)],
};
