// The ledger domain: accounts, ledger entries, transfers and payment holds, sharded over LEDGER_DATABASE_URLS (one
// store and one task queue per shard; see contract.ts for the shard rule).
import type { ServiceDefinition } from '../../platform/service';
import { xaFormatId } from '../../platform/xa';
import { createLedgerActivities } from './activities';
import * as m0001 from './migrations/0001-ledger';
import * as m0002 from './migrations/0002-pending-credits';
import * as m0003 from './migrations/0003-outbox';
import * as m0004 from './migrations/0004-outbox-heads';
import { openAccount } from './money';
import { accountsRouter, merchantsRouter } from './routes';
import { shardOf } from './contract';

const demoAccounts = [
  { id: 'demo-alice', owner: 'Alice', currency: 'USD', initialBalance: 10_000_000 },
  { id: 'demo-bob', owner: 'Bob', currency: 'USD', initialBalance: 50_000 },
];

export const ledger: ServiceDefinition = {
  name: 'ledger',
  stores: (config) =>
    config.db.urls.ledger.map((url, index, all) => ({ domain: 'ledger', unit: `ledger-${index}`, index, count: all.length, url })),
  migrations: [
    { name: '0001-ledger', ...m0001 },
    { name: '0002-pending-credits', ...m0002 },
    { name: '0003-outbox', ...m0003 },
    { name: '0004-outbox-heads', ...m0004 },
  ],
  activities: ({ store, config }) => createLedgerActivities({ db: store.db, url: store.url, xaFormatId: xaFormatId(config.temporal, store.url) }),
  routes: (deps) => [accountsRouter(deps), merchantsRouter(deps)],
  xa: true,
  async seed({ db, index, count }) {
    let created = 0;
    for (const a of demoAccounts.filter((x) => shardOf(x.id, count) === index)) {
      await db.transaction(async (t) => {
        const [exists] = await db.query('SELECT id FROM accounts WHERE id = ? FOR UPDATE', { replacements: [a.id], transaction: t });
        if ((exists as unknown[]).length) return;
        await openAccount(db, t, a);
        created++;
      });
    }
    return created;
  },
};
