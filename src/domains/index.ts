// The one registry of domains. Task queues, worker units, migrations, retention and read routes are all derived from
// this list: a new domain is a folder exporting a DomainDefinition, plus one line here.
import type { Config } from '../config';
import type { DomainDefinition } from '../platform/domain';
import type { StoreRef } from '../platform/stores';
import { inventory } from './inventory';
import { ledger } from './ledger';
import { loyalty } from './loyalty';
import { orders } from './orders';

export const domains: readonly DomainDefinition[] = [ledger, inventory, orders, loyalty];

export function domainStores(config: Config): StoreRef[] {
  return domains.flatMap((d) => d.stores(config));
}

export function domainNamed(name: string): DomainDefinition {
  const d = domains.find((x) => x.name === name);
  if (!d) throw new Error(`no domain named ${name}`);
  return d;
}
