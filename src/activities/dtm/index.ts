// The dtm service: the DTM-protocol coordinator's branch calls and its durable transaction record, in its own database
// on its own task queue.
import { singleStore, type ServiceDefinition } from '../../platform/service';
import { createDtmActivities } from './activities';
import * as m0001 from './migrations/0001-dtm';

export const dtm: ServiceDefinition = {
  name: 'dtm',
  stores: (config) => singleStore('dtm', config.db.urls.dtm),
  migrations: [{ name: '0001-dtm', ...m0001 }],
  activities: ({ store, config }) =>
    createDtmActivities({ db: store.db, urlPolicy: { production: config.env === 'production', allow: config.dtm.branchUrlAllow } }),
};
