// Every store of the product: each domain's (each ledger shard) and the API's own, with the migrations of each. The
// migrate command, the API (which reads them all) and the tests take the list from here.
import type { Config } from './config';
import { serviceNamed, serviceStores } from './activities';
import type { NamedMigration } from './platform/db/migrate';
import { apiMigrations, apiStore } from './platform/http/api-store';
import type { StoreRef } from './platform/stores';

export function allStores(config: Config): StoreRef[] {
  return [...serviceStores(config), apiStore(config)];
}

export function migrationsOf(store: StoreRef): NamedMigration[] {
  return store.domain === 'api' ? apiMigrations : serviceNamed(store.domain).migrations;
}

export function seedOf(store: StoreRef) {
  return store.domain === 'api' ? undefined : serviceNamed(store.domain).seed;
}
