// The bench's data, written straight into the databases (mysql2, one connection per database, kept open for the
// scenarios and the audit): each bench account on the shard its id maps to, with its opening ledger entry (as
// openAccount does), the rejection paths' accounts (one short of funds, one in EUR), and the two products in the
// inventory database. Also how money is counted, at the start and again in the audit.
import { BIG, INITIAL, ITEM, POOR } from './fixtures.mjs';

/** balance + frozen summed on each shard, and over all of them. */
export async function totalMoney(ledgerSql) {
  const byShard = [];
  for (const sql of ledgerSql) byShard.push(Number((await sql.query('SELECT COALESCE(SUM(balance + frozen), 0) AS m FROM accounts'))[0][0].m));
  return { byShard, total: byShard.reduce((a, b) => a + b, 0) };
}

async function openAccounts(ledgerSql, list, shardOf, SHARDS) {
  for (const [s, sql] of ledgerSql.entries()) {
    const here = list.filter((a) => shardOf(a.id, SHARDS) === s);
    if (!here.length) continue;
    const now = new Date();
    await sql.query('INSERT INTO accounts (id, owner, currency, balance, frozen, created_at, updated_at) VALUES ?', [here.map((a) => [a.id, 'bench', a.currency, a.balance, 0, now, now])]);
    const opened = here.filter((a) => a.balance > 0);
    if (opened.length) {
      await sql.query('INSERT INTO ledger_entries (account_id, flow_id, step, amount, kind, created_at) VALUES ?', [opened.map((a) => [a.id, `account-${a.id}`, 'open', a.balance, 'opening', now])]);
    }
  }
}

/** Seeds; returns the open connections (ledger shards, orders, inventory), the shard picker and the money at start. */
export async function seedDatabases({ config, shardOf, SHARDS, accounts }) {
  if (!(BIG.price > config.flows.approvalThreshold && ITEM.price <= config.flows.approvalThreshold)) {
    throw new Error(`APPROVAL_THRESHOLD ${config.flows.approvalThreshold}: ${BIG.sku} (${BIG.price}) must be over it, ${ITEM.sku} (${ITEM.price}) not`);
  }
  const mysql = await import('mysql2/promise');
  const connect = (uri) => mysql.createConnection({ uri, multipleStatements: false });
  const ledgerSql = await Promise.all(config.db.urls.ledger.map(connect));
  const ordersSql = await connect(config.db.urls.orders);
  const inventorySql = await connect(config.db.urls.inventory);
  const onShard = (id) => ledgerSql[shardOf(id, SHARDS)];
  const list = [...accounts.ids.map((id) => ({ id, currency: 'USD', balance: INITIAL })), { id: 'path-poor', currency: 'USD', balance: POOR }, { id: 'path-eur', currency: 'EUR', balance: 0 }];
  await openAccounts(ledgerSql, list, shardOf, SHARDS);
  await inventorySql.query('INSERT INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at) VALUES ?', [
    [
      [BIG.sku, 'Bench (needs approval)', BIG.price, 'USD', BIG.stock, 0, new Date(), new Date()],
      [ITEM.sku, 'Bench (well stocked)', ITEM.price, 'USD', ITEM.stock, 0, new Date(), new Date()],
    ],
  ]);
  return { ledgerSql, ordersSql, inventorySql, onShard, moneyAtStart: await totalMoney(ledgerSql) };
}
