// A hostile-input battery against the real app over the real Temporal server and MariaDB: several hundred requests
// generated from tables (malformed/truncated JSON, wrong types, bad numbers, control characters and odd unicode,
// injection-looking strings, oversized bodies, bad headers, unknown routes and methods, traversal paths). Every one
// must answer 4xx with the envelope (code matching the HTTP status of shared/API.md) and change nothing: row counts of
// every table of every store are equal before and after (each domain's database and each ledger shard, plus the API's,
// in databases of this file's own beside the suite's, so concurrent test files do not interfere), and no Temporal
// workflow was started on this file's flows task queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { loadConfig } from '../../src/config';
import { allStores, migrateStores } from '../../src/migrate';
import { select } from '../../src/platform/db/sql';
import type { Stores } from '../../src/platform/stores';
import { createApiEnv, type ApiEnv } from '../helpers/api';
import { createAccount, createProduct, uid } from '../helpers/env';

/** The tables each store must hold (the row counts below cover every table a store has, these included). */
const expectedTables: Record<string, string[]> = {
  ledger: ['accounts', 'ledger_entries', 'transfers', 'payments', 'barriers', 'outbox'],
  inventory: ['products', 'barriers', 'outbox'],
  orders: ['orders', 'order_items', 'barriers', 'outbox'],
  loyalty: ['points_entries', 'barriers', 'outbox', 'inbox'],
  dtm: ['dtm_trans', 'barriers', 'outbox'],
  api: ['idempotency_keys', 'webhooks', 'webhook_deliveries', 'dead_letters', 'inbox'],
};

/** shared/API.md: HTTP status → envelope code. */
const codeOf: Record<number, number> = { 400: 4000, 401: 4010, 404: 4040, 405: 4050, 409: 4090, 413: 4130, 422: 4001, 429: 4290 };

type Body = string | Uint8Array | ReadableStream<Uint8Array>;
interface Case {
  cat: string;
  name: string;
  method: string;
  path: string;
  body?: Body;
  headers?: Record<string, string>;
  expect: number[];
}

const DEL = Symbol('delete');
type Patch = Record<string, unknown>;
/** A copy of `base` with `patch` applied (DEL removes a key). */
function mutate(base: Record<string, unknown>, patch: Patch): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === DEL) delete out[k];
    else out[k] = v;
  }
  return out;
}
const json = { 'content-type': 'application/json' };
const show = (v: unknown) => {
  const s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...(${s.length})` : s;
};

function streamOf(totalBytes: number, chunk = 16 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      const n = Math.min(chunk, totalBytes - sent);
      sent += n;
      controller.enqueue(new TextEncoder().encode('{"owner":"' + 'x'.repeat(Math.max(0, n - 10)).slice(0, n)));
    },
  });
}

/** `url` naming database `name` instead (no database when name is ''). */
function onDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A database of this file's own for every store (each ledger shard, each domain, the API), on the server of the suite's
 * database it stands for, migrated; returns the environment that points the app at them.
 */
async function databasesOfOurOwn(): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  const config = loadConfig();
  const suffix = `_h${uid().slice(0, 8)}`;
  // The test user may create databases named after its own (sagaflow_%); keep within MariaDB's 64-character limit.
  const own = (url: string) => onDatabase(url, `${decodeURIComponent(new URL(url).pathname.slice(1)).slice(0, 64 - suffix.length)}${suffix}`);
  const urls = config.db.urls;
  const env = {
    LEDGER_DATABASE_URLS: urls.ledger.map(own).join(','),
    INVENTORY_DATABASE_URL: own(urls.inventory),
    ORDERS_DATABASE_URL: own(urls.orders),
    LOYALTY_DATABASE_URL: own(urls.loyalty),
    API_DATABASE_URL: own(urls.api),
    DTM_DATABASE_URL: own(urls.dtm),
    // Its own broker prefix too: its consumers must not take the suite's events and apply them to these databases.
    BROKER_PREFIX: `t-hostile${suffix}`,
  };
  const ownConfig = loadConfig({ ...process.env, ...env });
  const refs = allStores(ownConfig);
  const drop = async () => {
    for (const ref of refs) {
      const conn = await mysql.createConnection({ uri: onDatabase(ref.url, '') });
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${decodeURIComponent(new URL(ref.url).pathname.slice(1))}\``);
      } finally {
        await conn.end();
      }
    }
  };
  try {
    await migrateStores(ownConfig, 'up', refs); // creates each database first
  } catch (err) {
    await drop();
    throw err;
  }
  return { env, drop };
}

/** Row counts of every table of every store, keyed `<unit>.<table>`. */
async function rowCounts(stores: Stores): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const store of stores.list) {
    const tables = (await select<Record<string, string>>(store.db, 'SHOW TABLES', []))
      .map((row) => Object.values(row)[0])
      .filter((t) => t !== 'SequelizeMeta');
    for (const t of expectedTables[store.domain]) if (!tables.includes(t)) throw new Error(`${store.unit} has no table ${t}`);
    for (const t of tables.sort()) {
      out[`${store.unit}.${t}`] = Number((await select<{ n: number }>(store.db, `SELECT COUNT(*) AS n FROM \`${t}\``, []))[0].n);
    }
  }
  return out;
}

describe('hostile input battery', () => {
  let api: ApiEnv;
  let dropDb: () => Promise<void> = async () => {};
  let cases: Case[] = [];
  let before: Record<string, number>;
  let workflowsBefore: number;
  const prefix = uid('hostile-');
  let alice: string;
  let bob: string;
  let euro: string;
  let sku: string;
  let euroSku: string;

  const countWorkflows = async () => (await api.env.client.workflow.count(`TaskQueue="${prefix}-flows"`)).count;

  beforeAll(async () => {
    const own = await databasesOfOurOwn();
    dropDb = own.drop;
    api = await createApiEnv({
      ...own.env,
      TEMPORAL_TASK_QUEUE_PREFIX: prefix,
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
    });
    // Accounts on both shards: transfer cases read one account on each.
    alice = await createAccount(api, 5_000_000, 'USD', { shard: 0 });
    bob = await createAccount(api, 0, 'USD', { shard: 1 });
    euro = await createAccount(api, 1_000, 'EUR', { shard: 1 });
    sku = await createProduct(api, 1_000, 10);
    euroSku = await createProduct(api, 1_000, 10, 'EUR');
    cases = buildCases();
    before = await rowCounts(api.stores);
    workflowsBefore = await countWorkflows();
  });
  afterAll(async () => {
    await api?.close();
    await dropDb();
  });

  function buildCases(): Case[] {
    const out: Case[] = [];
    const add = (c: Case) => out.push(c);
    const post = (cat: string, name: string, path: string, value: unknown, expect = [400], headers: Record<string, string> = {}) =>
      add({ cat, name, method: 'POST', path, body: JSON.stringify(value), headers: { ...json, ...headers }, expect });
    const raw = (cat: string, name: string, path: string, body: Body, headers: Record<string, string>, expect = [400]) =>
      add({ cat, name, method: 'POST', path, body, headers, expect });

    const ep = {
      account: { path: '/v1/accounts', base: { owner: 'Hostile Owner', currency: 'USD', initialBalance: 100 } },
      transfer: { path: '/v1/transfers', base: { fromAccountId: alice, toAccountId: bob, amount: 100, currency: 'USD', memo: 'rent' } },
      product: { path: '/v1/products', base: { sku: 'sku-hostile-new', name: 'Widget', price: 100, currency: 'USD', stock: 5 } },
      order: { path: '/v1/orders', base: { customerId: 'cust-hostile', paymentAccountId: alice, items: [{ sku, quantity: 1 }] } },
      cancel: { path: '/v1/orders/ord-none/cancel', base: { reason: 'changed my mind' } },
    };

    // 1. Malformed JSON.
    const malformed = [
      '{',
      '}',
      '{"owner":',
      '{"owner":"a","currency":"USD"',
      "{'owner':'a','currency':'USD'}",
      '{owner:"a",currency:"USD"}',
      '{"owner":"a","currency":"USD",}',
      '{"owner":"a" "currency":"USD"}',
      '{"owner":"a\\x41","currency":"USD"}',
      '{"owner":"a\\u12","currency":"USD"}',
      '{"amount":01}',
      '{"amount":+1}',
      '{"amount":.5}',
      '{"amount":0x10}',
      '{"amount":NaN}',
      '{"amount":Infinity}',
      'undefined',
      'NaN',
      '\u0000',
      '{"owner":"a"}{"owner":"b"}',
      '{"owner":"a"}garbage',
      '<xml/>',
      ' ',
    ];
    for (const target of [ep.account, ep.transfer, ep.order]) {
      for (const m of malformed) raw('malformed JSON', `${target.path} ${show(m)}`, target.path, m, json);
    }
    raw('malformed JSON', 'empty body with application/json', ep.cancel.path, '', json);
    raw('malformed JSON', '20k-deep array nesting', ep.transfer.path, '['.repeat(20_000) + ']'.repeat(20_000), json);
    raw('malformed JSON', '10k-deep object nesting', ep.transfer.path, '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), json);
    raw('malformed JSON', 'invalid UTF-8 bytes', ep.account.path, Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), json);
    raw(
      'malformed JSON',
      'invalid UTF-8 inside the currency',
      ep.account.path,
      Uint8Array.from([...new TextEncoder().encode('{"owner":"a","currency":"US'), 0xc3, 0x28, ...new TextEncoder().encode('"}')]),
      json,
    );
    raw('malformed JSON', 'UTF-16 body', ep.account.path, new Uint8Array(Buffer.from(JSON.stringify(ep.account.base), 'utf16le')), {
      'content-type': 'application/json; charset=utf-16',
    });

    // 2. Truncated JSON: strict prefixes of each valid body.
    for (const [name, target] of Object.entries(ep)) {
      const full = JSON.stringify(target.base);
      for (const at of [1, 2, Math.floor(full.length / 4), Math.floor(full.length / 2), full.length - 2, full.length - 1]) {
        raw('truncated JSON', `${name} cut at ${at}/${full.length}`, target.path, full.slice(0, at), json);
      }
    }

    // 3. Whole body of the wrong type: null, arrays, scalars.
    for (const [name, target] of Object.entries(ep)) {
      const values: unknown[] = [null, [], [target.base], 'a string', 0, -1, true, false];
      if (name !== 'cancel') values.push({});
      for (const v of values) post('wrong body type', `${name} body ${show(v)}`, target.path, v);
    }

    // 4. Amounts and other integers: zero, negative, fractional, huge, non-numeric.
    const badMoney: unknown[] = [0, -1, -1e12, 1.5, 0.1, 1e-7, 1e12 + 1, 2 ** 53 + 2, 1e300, 'Infinity', '-Infinity', 'NaN', '100', '1e3', '', null, true, [], [100], {}, { $gt: 0 }];
    for (const v of badMoney) post('bad amount', `transfer.amount ${show(v)}`, ep.transfer.path, mutate(ep.transfer.base, { amount: v }));
    for (const v of badMoney) post('bad amount', `product.price ${show(v)}`, ep.product.path, mutate(ep.product.base, { price: v }));
    for (const v of [-1, 1.5, 1e12 + 1, 1e300, 'Infinity', '100', null, true, []]) {
      post('bad amount', `account.initialBalance ${show(v)}`, ep.account.path, mutate(ep.account.base, { initialBalance: v }));
    }
    for (const v of [-1, 0.5, 1e9 + 1, 1e300, '5', null]) post('bad amount', `product.stock ${show(v)}`, ep.product.path, mutate(ep.product.base, { stock: v }));
    for (const v of [0, -1, 1.5, 1001, 1e300, 'Infinity', '1', null]) {
      post('bad amount', `order quantity ${show(v)}`, ep.order.path, mutate(ep.order.base, { items: [{ sku, quantity: v }] }));
    }
    // Numbers JSON.stringify cannot write: 1e400 overflows to Infinity when parsed.
    raw('bad amount', 'transfer.amount 1e400', ep.transfer.path, JSON.stringify(ep.transfer.base).replace('"amount":100', '"amount":1e400'), json);
    raw('bad amount', 'transfer.amount -1e400', ep.transfer.path, JSON.stringify(ep.transfer.base).replace('"amount":100', '"amount":-1e400'), json);
    raw('bad amount', 'transfer.amount -0', ep.transfer.path, JSON.stringify(ep.transfer.base).replace('"amount":100', '"amount":-0'), json);
    raw('bad amount', 'duplicate key, last one invalid', ep.transfer.path, JSON.stringify(ep.transfer.base).replace('"amount":100', '"amount":100,"amount":-5'), json);

    // 5. Ids: injection-looking, odd unicode, too long, wrong types.
    const badIds: unknown[] = [
      '',
      ' ',
      'acc 1',
      "' OR 1=1 --",
      'acc-1; DROP TABLE accounts',
      '1\' UNION SELECT * FROM accounts --',
      'acc-1\u0000',
      'acc-1\n',
      '\u202eacc-1',
      'acc\u200d1',
      'acc\u200b1',
      '💸',
      'acc\ud800',
      '\udc00acc',
      'ａｃｃ１',
      'İ',
      '../../etc/passwd',
      '%27%20OR%201%3D1',
      'x'.repeat(65),
      'x'.repeat(10_000),
      123,
      null,
      ['acc-1'],
      { $ne: null },
      true,
    ];
    for (const v of badIds) post('bad id', `transfer.fromAccountId ${show(v)}`, ep.transfer.path, mutate(ep.transfer.base, { fromAccountId: v }));
    for (const v of badIds) post('bad id', `product.sku ${show(v)}`, ep.product.path, mutate(ep.product.base, { sku: v }));
    for (const v of badIds.filter((_, i) => i % 2 === 0)) {
      post('bad id', `order.paymentAccountId ${show(v)}`, ep.order.path, mutate(ep.order.base, { paymentAccountId: v }));
    }
    for (const v of badIds.filter((_, i) => i % 2 === 1)) {
      post('bad id', `order.customerId ${show(v)}`, ep.order.path, mutate(ep.order.base, { customerId: v }));
    }
    for (const v of badIds.filter((_, i) => i % 3 === 0)) {
      post('bad id', `order item sku ${show(v)}`, ep.order.path, mutate(ep.order.base, { items: [{ sku: v, quantity: 1 }] }));
    }

    // 6. Free text (owner, name, memo, reason): control characters (C0, DEL, C1), unpaired surrogates, blank, too long.
    const badText = (max: number): unknown[] => [
      '',
      '   ',
      '\u0000',
      'a\u0007b',
      'line\nbreak',
      'tab\there',
      'cr\rhere',
      '\u001b[31mred',
      'del\u007f',
      'nel\u0085',
      'csi\u009b2J',
      'lone\ud800',
      'tail\udc00',
      'x'.repeat(max + 1),
      42,
      null,
      ['a'],
      { first: 'a' },
    ];
    for (const v of badText(128)) post('bad text', `account.owner ${show(v)}`, ep.account.path, mutate(ep.account.base, { owner: v }));
    for (const v of badText(200)) post('bad text', `product.name ${show(v)}`, ep.product.path, mutate(ep.product.base, { name: v }));
    for (const v of badText(256)) post('bad text', `transfer.memo ${show(v)}`, ep.transfer.path, mutate(ep.transfer.base, { memo: v }));
    for (const v of badText(256)) post('bad text', `cancel.reason ${show(v)}`, ep.cancel.path, { reason: v });
    // Unpaired surrogates as they arrive on the wire: escaped inside JSON.
    raw('bad text', 'owner "\\ud83d" escaped', ep.account.path, '{"owner":"smile \\ud83d","currency":"USD"}', json);
    raw('bad text', 'owner "\\udead\\ud83d" escaped', ep.account.path, '{"owner":"\\udead\\ud83d","currency":"USD"}', json);
    raw('bad text', 'memo "\\u0000" escaped', ep.transfer.path, JSON.stringify(ep.transfer.base).replace('"rent"', '"re\\u0000nt"'), json);

    // 7. Currency.
    const badCurrencies: unknown[] = ['usd', 'US', 'USDD', '', ' USD', 'USD ', 'ÜSD', 'U\u200dSD', 'ＵＳＤ', "' OR 1=1 --", 'US\u0000', 840, null, ['USD']];
    for (const target of [ep.account, ep.transfer, ep.product]) {
      for (const v of badCurrencies) post('bad currency', `${target.path} currency ${show(v)}`, target.path, mutate(target.base, { currency: v }));
    }

    // 8. Missing fields, and items that are not a list of lines.
    for (const [name, target] of Object.entries(ep)) {
      for (const field of Object.keys(target.base)) {
        if ((name === 'account' && field === 'initialBalance') || (name === 'transfer' && field === 'memo') || name === 'cancel') continue;
        post('missing field', `${name} without ${field}`, target.path, mutate(target.base, { [field]: DEL }));
      }
    }
    post('missing field', 'account with only extras', ep.account.path, { name: 'x', ccy: 'USD' });
    const line = { sku, quantity: 1 };
    const badItems: unknown[] = [
      [],
      null,
      {},
      line,
      [null],
      [[]],
      ['sku'],
      [{ sku }],
      [{ quantity: 1 }],
      [{ sku, qty: 1 }],
      Array.from({ length: 51 }, () => line),
      sku,
    ];
    for (const v of badItems) post('missing field', `order.items ${show(v)}`, ep.order.path, mutate(ep.order.base, { items: v }));

    // 9. Extra fields (mass assignment) next to an invalid or unknown value: stripped, and still rejected.
    const extras = { id: 'forced-id', balance: 1e9, frozen: -5, status: 'COMPLETED', createdAt: '1970-01-01' };
    post('extra fields', 'account extras, no currency', ep.account.path, mutate({ ...ep.account.base, ...extras }, { currency: DEL }));
    post('extra fields', 'product extras, reserved, price 0', ep.product.path, { ...ep.product.base, reserved: 99, price: 0 });
    post('extra fields', 'transfer extras, amount 0', ep.transfer.path, { ...ep.transfer.base, ...extras, amount: 0 });
    post('extra fields', 'transfer extras, unknown source', ep.transfer.path, { ...ep.transfer.base, ...extras, fromAccountId: 'acc-nobody' }, [422]);
    post('extra fields', 'order extras, total 1, unknown account', ep.order.path, { ...ep.order.base, total: 1, status: 'CONFIRMED', paymentAccountId: 'acc-nobody' }, [422]);
    post('extra fields', 'order line with price 0, quantity 0', ep.order.path, mutate(ep.order.base, { items: [{ sku, quantity: 0, price: 0 }] }));
    raw('extra fields', '"__proto__" key and no currency', ep.account.path, '{"owner":"a","__proto__":{"currency":"USD"}}', json);
    raw('extra fields', '"constructor" key and no owner', ep.account.path, '{"currency":"USD","constructor":{"prototype":{"owner":"a"}}}', json);

    // 10. Wrong content types (valid JSON bodies otherwise).
    const contentTypes: Array<[string, Record<string, string>, (b: Record<string, unknown>) => Body]> = [
      ['text/plain', { 'content-type': 'text/plain' }, (b) => JSON.stringify(b)],
      ['text/json', { 'content-type': 'text/json' }, (b) => JSON.stringify(b)],
      ['application/jsonx', { 'content-type': 'application/jsonx' }, (b) => JSON.stringify(b)],
      ['application/xml', { 'content-type': 'application/xml' }, () => '<account><owner>a</owner></account>'],
      [
        'form-urlencoded',
        { 'content-type': 'application/x-www-form-urlencoded' },
        (b) => new URLSearchParams(Object.entries(b).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString(),
      ],
      ['multipart/form-data', { 'content-type': 'multipart/form-data; boundary=XYZ' }, () => '--XYZ\r\nContent-Disposition: form-data; name="owner"\r\n\r\na\r\n--XYZ--\r\n'],
      ['none', {}, (b) => new TextEncoder().encode(JSON.stringify(b))],
    ];
    for (const [name, target] of Object.entries(ep)) {
      for (const [ct, headers, body] of contentTypes) {
        if (name === 'cancel' && !['text/plain', 'form-urlencoded', 'none'].includes(ct)) continue;
        raw('wrong content type', `${name} as ${ct}`, target.path, body(target.base), headers);
      }
    }

    // 11. Oversized bodies (limit 64 KiB).
    const big = 70 * 1024;
    post('oversized body', 'account owner of 70 KiB', ep.account.path, mutate(ep.account.base, { owner: 'x'.repeat(big) }), [413]);
    post('oversized body', 'transfer memo of 70 KiB', ep.transfer.path, mutate(ep.transfer.base, { memo: 'x'.repeat(big) }), [413]);
    post('oversized body', 'product name of exactly 64 KiB + 1', ep.product.path, mutate(ep.product.base, { name: 'x'.repeat(64 * 1024 + 1) }), [413]);
    post('oversized body', 'order with 5000 lines', ep.order.path, mutate(ep.order.base, { items: Array.from({ length: 5000 }, () => line) }), [413]);
    post('oversized body', 'cancel reason of 70 KiB', ep.cancel.path, { reason: 'x'.repeat(big) }, [413]);
    raw('oversized body', '1 MiB of garbage', ep.account.path, 'x'.repeat(1024 * 1024), json, [413]);
    raw('oversized body', '70 KiB as text/plain', ep.transfer.path, 'x'.repeat(big), { 'content-type': 'text/plain' }, [413]);
    raw('oversized body', '200 KiB streamed without Content-Length', ep.account.path, streamOf(200 * 1024), json, [413]);
    raw('oversized body', '70 KiB streamed, no content type', ep.transfer.path, streamOf(big), {}, [413]);

    // 12. Bad Idempotency-Key (with otherwise valid bodies that would start a flow).
    const badKeys = ['', 'k'.repeat(129), 'k'.repeat(10_000), 'a b', 'clé', 'ñandú', 'key/1', "' OR 1=1 --", 'k,2', 'k;drop', '../x', 'k\t1', '{key}'];
    for (const k of badKeys) {
      post('bad Idempotency-Key', `transfer key ${show(k)}`, ep.transfer.path, ep.transfer.base, [400], { 'idempotency-key': k });
      post('bad Idempotency-Key', `order key ${show(k)}`, ep.order.path, ep.order.base, [400], { 'idempotency-key': k });
    }

    // 13. Bad Prefer (with otherwise valid bodies).
    const badPrefer = ['wait=0', 'wait=31', 'wait=abc', 'wait=-1', 'wait=1.5', 'wait=', 'wait=1e1', 'wait=99999999999999999999', 'wait=Infinity', 'wait=300'];
    for (const p of badPrefer) {
      post('bad Prefer', `transfer ${p}`, ep.transfer.path, ep.transfer.base, [400], { prefer: p });
      post('bad Prefer', `order ${p}`, ep.order.path, ep.order.base, [400], { prefer: p });
    }

    // 14. Unknown routes.
    const unknownRoutes: Array<[string, string]> = [
      ['GET', '/'],
      ['GET', '/v1'],
      ['GET', '/v1/'],
      ['GET', '/v2/accounts/acc-1'],
      ['GET', '/v1/account/acc-1'],
      ['GET', '/v1/accounts'],
      ['GET', '/v1/transfers'],
      ['GET', '/v1/orders'],
      ['GET', '/v1/accounts/acc-1/entries/1'],
      ['GET', '/v1/transfers/t-1/steps'],
      ['GET', '/v1/customers/c-1'],
      ['GET', '/v1/customers'],
      ['POST', '/v1/orders/ord-1/refund'],
      ['POST', '/v1/accounts/acc-1/freeze'],
      ['GET', '/admin'],
      ['GET', '/.env'],
      ['GET', '/.git/config'],
      ['GET', '/wp-login.php'],
      ['GET', '/openapi.yaml'],
      ['GET', '/docs/assets/package.json'],
      ['GET', '/v1//accounts/acc-1'],
      ['GET', '/V1/ACCOUNTS/acc-1'],
    ];
    for (const [method, path] of unknownRoutes) add({ cat: 'unknown route', name: `${method} ${path}`, method, path, expect: [404] });

    // 15. Unknown methods on known paths.
    const knownPaths = [
      '/v1/accounts',
      '/v1/accounts/acc-1',
      '/v1/accounts/acc-1/entries',
      '/v1/transfers',
      '/v1/transfers/t-1',
      '/v1/products',
      '/v1/products/sku-1',
      '/v1/orders',
      '/v1/orders/ord-1',
      '/v1/orders/ord-1/approve',
      '/v1/orders/ord-1/cancel',
      '/v1/customers/c-1/points',
      '/healthz',
      '/readyz',
      '/openapi.json',
    ];
    for (const path of knownPaths) {
      for (const method of ['PUT', 'DELETE', 'PATCH']) {
        const withBody = method !== 'DELETE';
        add({ cat: 'unknown method', name: `${method} ${path}`, method, path, expect: [404, 405], ...(withBody ? { body: '{"owner":"a","currency":"USD"}', headers: json } : {}) });
      }
    }
    for (const path of ['/v1/orders/ord-1/approve', '/v1/orders/ord-1/cancel']) add({ cat: 'unknown method', name: `GET ${path}`, method: 'GET', path, expect: [404, 405] });
    for (const path of ['/healthz', '/openapi.json', '/v1/accounts/acc-1', '/v1/customers/c-1/points']) {
      add({ cat: 'unknown method', name: `POST ${path}`, method: 'POST', path, body: '{}', headers: json, expect: [404, 405] });
    }
    add({ cat: 'unknown method', name: 'OPTIONS /v1/transfers', method: 'OPTIONS', path: '/v1/transfers', expect: [404, 405] });

    // 16. Traversal, encoding tricks and injection in path segments and queries.
    const traversal: Array<[string, string, number[]]> = [
      ['GET', '/v1/accounts/..%2F..%2Fetc%2Fpasswd', [400]],
      ['GET', '/v1/accounts/..%252F..%252Fetc%252Fpasswd', [400]],
      ['GET', '/v1/accounts/%2e%2e%2f%2e%2e%2fetc%2fpasswd', [400]],
      ['GET', '/v1/accounts/..%5C..%5Cwindows', [400]],
      ['GET', '/v1/accounts/%00', [400]],
      ['GET', '/v1/accounts/acc-1%00.json', [400]],
      ['GET', '/v1/accounts/%ZZ', [400]],
      ['GET', '/v1/accounts/%E0%A4%A', [400]],
      ['GET', '/v1/accounts/acc-1%0d%0aSet-Cookie:%20x=1', [400]],
      ['GET', "/v1/accounts/'%20OR%201=1%20--", [400]],
      ['GET', '/v1/accounts/acc-1;%20DROP%20TABLE%20accounts', [400]],
      ['GET', '/v1/products/%27%3B%20DELETE%20FROM%20products%3B--', [400]],
      ['GET', '/v1/customers/%27%20OR%201%3D1/points', [400]],
      ['GET', '/v1/transfers/%E2%80%AEevil', [400]],
      ['GET', '/v1/orders/%F0%9F%92%B8', [400]],
      ['GET', '/v1/orders/a%E2%80%8Db', [400]],
      ['POST', '/v1/orders/..%2Fx/approve', [400]],
      ['POST', '/v1/orders/%2e%2e%2f%2e%2e%2fx/cancel', [400]],
      ['GET', '/docs/assets/..%2F..%2Fpackage.json', [404]],
      ['GET', '/docs/assets/%2e%2e/%2e%2e/%2e%2e/package.json', [404]],
      ['GET', '/docs/assets/swagger-ui.css%00.js', [404]],
      ['GET', '/docs/assets/swagger-ui.cssZZZ', [404]],
      ['GET', '/docs/assets/zzzswagger-ui-bundle.js', [404]],
      ['GET', '/docs/assets/swagger-ui.css/x', [404]],
      ['GET', '/v1/%2e%2e/%2e%2e/etc/passwd', [404]],
    ];
    for (const [method, path, expect] of traversal) add({ cat: 'traversal/encoding', name: `${method} ${path}`, method, path, expect });

    // 17. Very long ids in paths.
    for (const n of [65, 10_000]) {
      const long = 'a'.repeat(n);
      for (const [method, path] of [
        ['GET', `/v1/accounts/${long}`],
        ['GET', `/v1/accounts/${long}/entries`],
        ['GET', `/v1/transfers/${long}`],
        ['GET', `/v1/products/${long}`],
        ['GET', `/v1/orders/${long}`],
        ['POST', `/v1/orders/${long}/approve`],
        ['POST', `/v1/orders/${long}/cancel`],
        ['GET', `/v1/customers/${long}/points`],
      ]) {
        add({ cat: 'long id in path', name: `${method} ${path.replace(long, `<${n} chars>`)}`, method, path, expect: [400] });
      }
    }

    // 18. Bad query parameters on the ledger (an account that exists).
    const badQueries = [
      'limit=0',
      'limit=-1',
      'limit=201',
      'limit=abc',
      'limit=1.5',
      'limit=',
      'limit=Infinity',
      'limit=1&limit=2',
      'limit=99999999999999999999999',
      'cursor=abc',
      'cursor=-1',
      'cursor=12345678901234567890',
      "cursor=1'%20OR%201=1--",
      'cursor=1;DROP%20TABLE%20ledger_entries',
      'cursor=',
      'cursor=1&cursor=2',
    ];
    for (const q of badQueries) {
      add({ cat: 'bad query', name: `entries?${q}`, method: 'GET', path: `/v1/accounts/${alice}/entries?${q}`, expect: [400] });
    }

    // 19. Valid shape, rejected by the business rules before anything starts (4001) or unknown (4040).
    post('business rejection', 'transfer from an unknown account', ep.transfer.path, mutate(ep.transfer.base, { fromAccountId: 'acc-unknown' }), [422]);
    post('business rejection', 'transfer to a valid-looking unknown id', ep.transfer.path, mutate(ep.transfer.base, { toAccountId: 'acc-1:DROP.TABLE' }), [422]);
    post('business rejection', 'transfer currency mismatch', ep.transfer.path, mutate(ep.transfer.base, { toAccountId: euro }), [422]);
    post('business rejection', 'transfer in a currency neither holds', ep.transfer.path, mutate(ep.transfer.base, { currency: 'EUR' }), [422]);
    post('business rejection', 'transfer to itself', ep.transfer.path, mutate(ep.transfer.base, { toAccountId: alice }), [422]);
    post('business rejection', 'order from an unknown account', ep.order.path, mutate(ep.order.base, { paymentAccountId: 'acc-unknown' }), [422]);
    post('business rejection', 'order of an unknown sku', ep.order.path, mutate(ep.order.base, { items: [{ sku: 'sku-unknown', quantity: 1 }] }), [422]);
    post('business rejection', 'order of a product in another currency', ep.order.path, mutate(ep.order.base, { items: [line, { sku: euroSku, quantity: 1 }] }), [422]);
    post('business rejection', 'product sku that exists', ep.product.path, mutate(ep.product.base, { sku }), [409]);
    add({ cat: 'business rejection', name: 'approve an unknown order', method: 'POST', path: '/v1/orders/ord-nobody/approve', expect: [404] });
    add({ cat: 'business rejection', name: 'cancel an unknown order', method: 'POST', path: '/v1/orders/ord-nobody/cancel', body: '{}', headers: json, expect: [404] });

    // 20. Hostile X-Request-Id on an invalid request: never echoed, traceId is a fresh id.
    for (const rid of ['a'.repeat(129), 'has space', '<script>alert(1)</script>', "' OR 1=1 --", 'new\u00e9']) {
      add({ cat: 'hostile X-Request-Id', name: show(rid), method: 'GET', path: '/v1/accounts/bad%20id', headers: { 'x-request-id': rid }, expect: [400] });
    }
    return out;
  }

  interface Outcome {
    c: Case;
    status: number;
    problems: string[];
  }
  const outcomes: Outcome[] = [];

  it('answers every hostile request with a 4xx envelope whose code matches the status', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    for (const c of cases) {
      const init: RequestInit & { duplex?: string } = { method: c.method, headers: { ...(c.headers ?? {}) } };
      if (c.body !== undefined) init.body = c.body;
      if (c.body instanceof ReadableStream) init.duplex = 'half';
      const res = await api.app.request(c.path, init);
      const text = await res.text();
      const problems: string[] = [];
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        problems.push(`not JSON: ${text.slice(0, 80)}`);
      }
      if (!c.expect.includes(res.status)) problems.push(`status ${res.status}, expected ${c.expect.join('/')}: ${text.slice(0, 200)}`);
      if (res.status < 400 || res.status >= 500) problems.push(`status ${res.status} is not 4xx`);
      if (body && typeof body === 'object') {
        const keys = Object.keys(body).sort().join(',');
        if (keys !== 'code,data,message,traceId') problems.push(`envelope keys ${keys}`);
        if (body.code !== codeOf[res.status]) problems.push(`code ${body.code} for HTTP ${res.status}`);
        if (typeof body.message !== 'string' || !body.message) problems.push('message is not a non-empty string');
        if (body.data !== null && (typeof body.data !== 'object' || Array.isArray(body.data))) problems.push('data is neither an object nor null');
        if (typeof body.traceId !== 'string' || !body.traceId || body.traceId !== res.headers.get('x-request-id')) problems.push('traceId missing or not X-Request-Id');
        if (c.headers?.['x-request-id'] && body.traceId === c.headers['x-request-id']) problems.push('a malformed X-Request-Id was echoed');
        if (res.status === 400) {
          const errors = body.data?.errors;
          if (!Array.isArray(errors) || !errors.length || !errors.every((e: any) => typeof e.path === 'string' && typeof e.message === 'string')) {
            problems.push('400 without data.errors [{path, message}]');
          }
        }
        if (/at .*\.[tj]s:\d+|SELECT |INSERT |sequelize|SqlError|ER_/i.test(text)) problems.push('leaks internals');
      } else if (body !== undefined) problems.push('body is not an object');
      if (!(res.headers.get('content-type') ?? '').includes('application/json')) problems.push(`content-type ${res.headers.get('content-type')}`);
      outcomes.push({ c, status: res.status, problems });
    }

    const byCategory = new Map<string, Map<number, number>>();
    for (const o of outcomes) {
      const m = byCategory.get(o.c.cat) ?? new Map<number, number>();
      m.set(o.status, (m.get(o.status) ?? 0) + 1);
      byCategory.set(o.c.cat, m);
    }
    const summary = [...byCategory].map(([cat, m]) => `  ${cat}: ${[...m].map(([s, n]) => `${n}×${s}`).join(', ')}`).join('\n');
    console.info(`hostile battery: ${outcomes.length} requests\n${summary}`);

    const failures = outcomes.filter((o) => o.problems.length).map((o) => `[${o.c.cat}] ${o.c.name}: ${o.problems.join('; ')}`);
    expect(failures).toEqual([]);
  });

  it('wrote nothing: every table has the row count it had before the battery', async () => {
    expect(outcomes.length).toBe(cases.length);
    // The counts cover every table of every store (each shard's ledger tables too), so "equal" measures something.
    const everyTable = api.stores.list.flatMap((store) => expectedTables[store.domain].map((t) => `${store.unit}.${t}`));
    expect(Object.keys(before)).toEqual(expect.arrayContaining(everyTable));
    expect(before).toMatchObject({ 'inventory.products': 2, 'api.idempotency_keys': 0 });
    expect(await rowCounts(api.stores)).toEqual(before);
  });

  it('started no Temporal workflow on its task queue', async () => {
    await new Promise((r) => setTimeout(r, 1_000)); // visibility is eventually consistent
    expect(await countWorkflows()).toBe(workflowsBefore);
    expect(workflowsBefore).toBe(0);
  });

  it('control: the unmutated bodies are accepted, so each case above failed for its hostile part', async () => {
    const ok = async (path: string, body: unknown, status: number) => {
      const res = await api.call('POST', path, body);
      expect(res.status, `${path}: ${JSON.stringify(res.json)}`).toBe(status);
    };
    await ok('/v1/accounts', { owner: 'Hostile Owner \u202e\u200d😀 \' OR 1=1 --', currency: 'USD', initialBalance: 100 }, 201);
    await ok('/v1/products', { sku: 'sku-hostile-new', name: 'Widget', price: 100, currency: 'USD', stock: 5 }, 201);
    await ok('/v1/transfers', { fromAccountId: alice, toAccountId: bob, amount: 100, currency: 'USD', memo: 'rent' }, 202);
    await ok('/v1/orders', { customerId: 'cust-hostile', paymentAccountId: alice, items: [{ sku, quantity: 1 }] }, 202);
    // The workflow count above measures something: the two flows just started show up.
    const deadline = Date.now() + 20_000;
    while ((await countWorkflows()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await countWorkflows()).toBe(2);
  });
});
