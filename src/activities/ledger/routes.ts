// /v1/accounts — open accounts (with an opening ledger entry) and read them and their ledger, newest first. An
// account's id decides its shard; every request reads or writes that one shard.
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { select } from '../../platform/db/sql';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { notFound, ok } from '../../platform/http/envelope';
import { commonErrors, Currency, envelopeOf, Id, jsonBody, jsonResponse, notFoundResponse, PageQuery, Text, Timestamp } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { iso } from '../../platform/http/views';
import { merchantAccount, merchantAccounts } from './contract';
import { openAccount } from './money';
import { findAccount, shardDb, type AccountRow } from './reads';

const CreateAccount = z
  .object({
    owner: Text(128),
    currency: Currency,
    initialBalance: z.number().int().min(0).max(1e12).optional().openapi({ description: 'Minor units; defaults to 0' }),
  })
  .openapi('CreateAccount');

const AccountView = z
  .object({
    id: z.string(),
    owner: z.string(),
    currency: z.string(),
    balance: z.number().int().openapi({ description: 'Minor units; balance + frozen never exceeds 2^53 − 1 (a credit past it is refused: BalanceLimit)' }),
    frozen: z.number().int().openapi({ description: 'Minor units held by TCC payment tries' }),
    createdAt: Timestamp.nullable(),
    updatedAt: Timestamp.nullable(),
  })
  .openapi('Account');

const EntryView = z
  .object({ id: z.string(), flowId: z.string(), step: z.string(), amount: z.number().int(), kind: z.string(), createdAt: Timestamp.nullable() })
  .openapi('LedgerEntry');
const EntriesPage = z.object({ entries: z.array(EntryView), nextCursor: z.string().nullable() }).openapi('LedgerPage');

const create = createRoute({
  method: 'post',
  path: '/',
  summary: 'Open an account',
  request: jsonBody(CreateAccount),
  responses: { 201: jsonResponse(envelopeOf(AccountView, 'AccountEnvelope'), 'The new account'), ...commonErrors },
});
const get = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'Read an account',
  request: { params: z.object({ id: Id }) },
  responses: { 200: jsonResponse(envelopeOf(AccountView, 'AccountEnvelope'), 'The account'), ...notFoundResponse, ...commonErrors },
});
const entries = createRoute({
  method: 'get',
  path: '/{id}/entries',
  summary: "An account's ledger entries, newest first, cursor-paginated",
  request: { params: z.object({ id: Id }), query: PageQuery },
  responses: { 200: jsonResponse(envelopeOf(EntriesPage, 'LedgerPageEnvelope'), 'A page of entries'), ...notFoundResponse, ...commonErrors },
});

const MerchantQuery = z.object({
  currency: Currency,
  subAccounts: z.coerce.number().int().min(1).max(256).optional().openapi({ description: 'Defaults to MERCHANT_SUB_ACCOUNTS' }),
});
const MerchantView = z
  .object({
    merchantId: z.string(),
    currency: z.string(),
    balance: z.number().int().openapi({ description: "The merchant's takings: the sum over its sub-accounts, minor units" }),
    accounts: z.array(z.object({ id: z.string(), balance: z.number().int() })),
  })
  .openapi('MerchantBalance');
const merchant = createRoute({
  method: 'get',
  path: '/{id}/balance',
  summary: "A merchant's takings in one currency, summed over its sub-accounts (each on its own shard)",
  request: { params: z.object({ id: Id }), query: MerchantQuery },
  responses: { 200: jsonResponse(envelopeOf(MerchantView, 'MerchantBalanceEnvelope'), 'The balance'), ...commonErrors },
});

const view = (a: AccountRow) => ({
  id: a.id,
  owner: a.owner,
  currency: a.currency,
  balance: Number(a.balance),
  frozen: Number(a.frozen),
  createdAt: iso(a.created_at),
  updatedAt: iso(a.updated_at),
});

interface EntryRow {
  id: number;
  flow_id: string;
  step: string;
  amount: number;
  kind: string;
  created_at: Date;
}

export function accountsRouter({ stores }: AppDeps): Mount {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const id = `acc-${randomUUID()}`;
    const db = shardDb(stores, id);
    await db.transaction((t) => openAccount(db, t, { id, owner: body.owner, currency: body.currency, initialBalance: body.initialBalance ?? 0 }));
    return ok(c, view((await findAccount(stores, id))!), 201);
  });

  router.openapi(get, async (c) => {
    const account = await findAccount(stores, c.req.valid('param').id);
    if (!account) throw notFound('account');
    return ok(c, view(account));
  });

  router.openapi(entries, async (c) => {
    const { id } = c.req.valid('param');
    const { limit = 50, cursor } = c.req.valid('query');
    const db = shardDb(stores, id);
    const [known] = await select(db, 'SELECT id FROM accounts WHERE id = ?', [id]);
    if (!known) throw notFound('account');
    const rows = await select<EntryRow>(
      db,
      `SELECT id, flow_id, step, amount, kind, created_at FROM ledger_entries
        WHERE account_id = ? ${cursor ? 'AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
      cursor ? [id, cursor, limit + 1] : [id, limit + 1],
    );
    const page = rows.slice(0, limit);
    return ok(c, {
      entries: page.map((e) => ({ id: String(e.id), flowId: e.flow_id, step: e.step, amount: Number(e.amount), kind: e.kind, createdAt: iso(e.created_at) })),
      nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null,
    });
  });

  return { path: '/v1/accounts', router };
}

/** /v1/merchants/{id}/balance — the sum of a merchant's sub-accounts, each read on its shard (all at once). */
export function merchantsRouter({ stores, config }: AppDeps): Mount {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  router.openapi(merchant, async (c) => {
    const { id } = c.req.valid('param');
    const { currency, subAccounts = config.flows.merchantSubAccounts } = c.req.valid('query');
    const ids = [...new Set([merchantAccount(id, currency), ...merchantAccounts(id, currency, subAccounts)])];
    const rows = (await Promise.all(ids.map((a) => findAccount(stores, a)))).filter((a): a is AccountRow => !!a);
    const accounts = rows.map((a) => ({ id: a.id, balance: Number(a.balance) }));
    // Exact: each balance is at most 2^53 − 1 and there are at most 257 of them, so the sum is exact as a BigInt.
    const total = accounts.reduce((sum, a) => sum + BigInt(a.balance), 0n);
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('merchant balance beyond 2^53 − 1');
    return ok(c, { merchantId: id, currency, balance: Number(total), accounts });
  });
  return { path: '/v1/merchants', router };
}
