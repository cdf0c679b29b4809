// The face every domain folder exports (src/activities/<name>/index.ts): its databases, migrations, activities, read
// routes and demo data. The registries (src/activities/index.ts) derive task queues, workers, migrations and routes from
// these, so a new domain is one folder and one line in the registry.
import type { Config } from '../config';
import type { EventHandler } from './consumer';
import type { NamedMigration } from './db/migrate';
import type { AppDeps, Mount } from './http/deps';
import type { OpenStore, StoreRef } from './stores';

export interface ServiceDefinition {
  name: string;
  /** One store, or one per shard, with its database URL from configuration. */
  stores(config: Config): StoreRef[];
  migrations: NamedMigration[];
  /** The activities served on each store's task queue, over that store's database only. */
  activities?(deps: { store: OpenStore; config: Config }): object;
  /** Event consumers (each with its queue and inbox rows), run by the workers that serve the domain's store. */
  consumers?: ServiceConsumer[];
  /** Read routes over the domain's own stores. */
  routes?(deps: AppDeps): Mount[];
  /** Its activities run XA branches: every worker serving one of its stores runs the XA recovery job on it. */
  xa?: boolean;
  /** Idempotent demo data for `npm run dev`; returns the rows created. */
  seed?(store: OpenStore): Promise<number>;
}

/** Stores of an unsharded domain. */
export function singleStore(domain: string, url: string): StoreRef[] {
  return [{ domain, unit: domain, index: 0, count: 1, url }];
}

export interface ServiceConsumer {
  /** Names its queues (`<prefix>.<name>`) and inbox rows. */
  name: string;
  /** The event types it reads. */
  bindings: string[];
  handler(deps: { store: OpenStore; config: Config }): EventHandler;
}
