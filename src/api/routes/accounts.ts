// /v1/accounts — open accounts (with an opening ledger entry) and read them and their ledger, newest first.
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Op } from 'sequelize';
import { openAccount } from '../../activities/money';
import { Account, LedgerEntry } from '../../db/models';
import type { AppDeps, AppEnv } from '../deps';
import { notFound, ok } from '../envelope';
import { iso } from '../flows/views';
import { validationHook } from '../middleware/errors';
import { commonErrors, Currency, envelopeOf, Id, jsonBody, jsonResponse, notFoundResponse, Text, Timestamp } from '../schemas';

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
    balance: z.number().int(),
    frozen: z.number().int(),
    createdAt: Timestamp.nullable(),
    updatedAt: Timestamp.nullable(),
  })
  .openapi('Account');

const EntryView = z
  .object({ id: z.string(), flowId: z.string(), step: z.string(), amount: z.number().int(), kind: z.string(), createdAt: Timestamp.nullable() })
  .openapi('LedgerEntry');
const EntriesPage = z.object({ entries: z.array(EntryView), nextCursor: z.string().nullable() }).openapi('LedgerPage');

const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).optional(),
  cursor: z.string().regex(/^[0-9]{1,19}$/, 'a cursor returned by a previous page').optional(),
});

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

const view = (a: Account) => ({
  id: a.id,
  owner: a.owner,
  currency: a.currency,
  balance: Number(a.balance),
  frozen: Number(a.frozen),
  createdAt: iso(a.createdAt),
  updatedAt: iso(a.updatedAt),
});

export function accountsRouter({ db }: AppDeps) {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const id = `acc-${randomUUID()}`;
    await db.transaction((t) => openAccount(db, t, { id, owner: body.owner, currency: body.currency, initialBalance: body.initialBalance ?? 0 }));
    const account = await Account.findByPk(id);
    return ok(c, view(account!), 201);
  });

  router.openapi(get, async (c) => {
    const account = await Account.findByPk(c.req.valid('param').id);
    if (!account) throw notFound('account');
    return ok(c, view(account));
  });

  router.openapi(entries, async (c) => {
    const { id } = c.req.valid('param');
    const { limit = 50, cursor } = c.req.valid('query');
    if (!(await Account.findByPk(id, { attributes: ['id'] }))) throw notFound('account');
    const rows = await LedgerEntry.findAll({
      where: { accountId: id, ...(cursor ? { id: { [Op.lt]: cursor } } : {}) },
      order: [['id', 'DESC']],
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return ok(c, {
      entries: page.map((e) => ({ id: String(e.id), flowId: e.flowId, step: e.step, amount: Number(e.amount), kind: e.kind, createdAt: iso(e.createdAt) })),
      nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null,
    });
  });

  return router;
}
