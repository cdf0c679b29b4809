// Every activity of the worker, built over injected dependencies (the worker passes its pool, tests a real MariaDB).
import type { Sequelize } from 'sequelize';
import { createOrderActivities } from './orders';
import { createTransferActivities } from './transfers';

export interface ActivityDeps {
  db: Sequelize;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createTransferActivities(deps),
    ...createOrderActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
