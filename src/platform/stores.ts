// Stores: the databases this process has open, each owned by one domain (or one shard of it) and named by its unit
// (`ledger-0`, `orders`, …). A unit's task queue is `<prefix>-<unit>`: a worker that serves a unit holds a pool to
// that unit's database only, so a store down pauses only the flows that need it.
import type { Sequelize } from 'sequelize';
import type { Config } from '../config';
import { createSequelize } from './db/sequelize';

export interface StoreRef {
  domain: string;
  /** `orders`, or `ledger-1` for shard 1 of the ledger. */
  unit: string;
  /** Shard index (0 for unsharded services) and shard count. */
  index: number;
  count: number;
  url: string;
}

export interface OpenStore extends StoreRef {
  db: Sequelize;
}

/** The unit (and task queue suffix) every workflow runs on; each store's activities run on that store's own unit. */
export const FLOWS_UNIT = 'flows';

export function taskQueueOf(prefix: string, unit: string): string {
  return `${prefix}-${unit}`;
}

/** The open databases of a process, looked up by domain. */
export class Stores {
  constructor(readonly list: OpenStore[]) {}

  /** Every store of a domain, in shard order. */
  of(domain: string): OpenStore[] {
    return this.list.filter((s) => s.domain === domain).sort((a, b) => a.index - b.index);
  }

  /** The database of an unsharded domain. */
  db(domain: string): Sequelize {
    const [store] = this.of(domain);
    if (!store) throw new Error(`the ${domain} database is not open in this process`);
    return store.db;
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((s) => s.db.close()));
  }
}

export function openStores(refs: StoreRef[], pool: Config['db']['pool']): Stores {
  return new Stores(refs.map((r) => ({ ...r, db: createSequelize(r.url, pool) })));
}
