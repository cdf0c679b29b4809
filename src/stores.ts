// Every store of the product: each domain's (each ledger shard) and the API's own, with the migrations of each. The
// migrate command, the API (which reads them all) and the tests take the list from here.
import type { Config } from './config';
import { domainNamed, domainStores } from './domains';
import type { NamedMigration } from './platform/db/migrate';
import { apiMigrations, apiStore } from './platform/http/idempotency-store';
import type { StoreRef } from './platform/stores';

export function allStores(config: Config): StoreRef[] {
  return [...domainStores(config), apiStore(config)];
}

export function migrationsOf(store: StoreRef): NamedMigration[] {
  return store.domain === 'api' ? apiMigrations : domainNamed(store.domain).migrations;
}

export function seedOf(store: StoreRef) {
  return store.domain === 'api' ? undefined : domainNamed(store.domain).seed;
}
