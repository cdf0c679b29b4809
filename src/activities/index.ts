// The one registry of services. Task queues, worker units, migrations, retention and read routes are all derived from
// this list: a new domain is a folder exporting a ServiceDefinition, plus one line here.
import type { Config } from '../config';
import type { ServiceDefinition } from '../platform/service';
import type { StoreRef } from '../platform/stores';
import { inventory } from './inventory';
import { ledger } from './ledger';
import { loyalty } from './loyalty';
import { orders } from './orders';
import { dtm } from './dtm';

export const services: readonly ServiceDefinition[] = [ledger, inventory, orders, loyalty, dtm];

export function serviceStores(config: Config): StoreRef[] {
  return services.flatMap((d) => d.stores(config));
}

export function serviceNamed(name: string): ServiceDefinition {
  const d = services.find((x) => x.name === name);
  if (!d) throw new Error(`no domain named ${name}`);
  return d;
}
