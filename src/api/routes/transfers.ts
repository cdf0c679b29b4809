// /v1/transfers — start a transfer saga and read it back.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Transfer } from '../../db/models';
import { select } from '../../db/sql';
import { BusinessErrors } from '../../shared/errors';
import { terminalTransferStatuses, type TransferProgress, type TransferStatus } from '../../shared/flows';
import { workflowIds } from '../../shared/names';
import { CustomerIdKey, FlowStatusKey, TransferIdKey } from '../../shared/search-attributes';
import { transferMoney, transferProgressQuery as transferQuery } from '../../workflows/transfer';
import type { AppDeps, AppEnv } from '../deps';
import { notFound, ok, rejected } from '../envelope';
import { postFlow } from '../flows/post';
import { askProgress, startFlow } from '../flows/temporal';
import { iso, mergeStatus, stepsView } from '../flows/views';
import { validationHook } from '../middleware/errors';
import {
  Amount,
  commonErrors,
  Currency,
  envelopeOf,
  FlowHeaders,
  Id,
  jsonBody,
  jsonResponse,
  notFoundResponse,
  rejectedResponse,
  conflictResponse,
  Step,
  Text,
  Timestamp,
} from '../schemas';
import { money } from '../../shared/money';

const CreateTransfer = z
  .object({ fromAccountId: Id, toAccountId: Id, amount: Amount, currency: Currency, memo: Text(256).optional() })
  .openapi('CreateTransfer');

const TransferView = z
  .object({
    id: z.string(),
    status: z.enum(['RUNNING', 'COMPLETED', 'COMPENSATED', 'FAILED']),
    fromAccountId: z.string(),
    toAccountId: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    memo: z.string().nullable(),
    reason: z.string().nullable(),
    reasonCode: z.string().nullable(),
    steps: z.array(Step),
    createdAt: Timestamp.nullable(),
  })
  .openapi('Transfer');
type TransferView = z.infer<typeof TransferView>;
const TransferEnvelope = envelopeOf(TransferView, 'TransferEnvelope');

const create = createRoute({
  method: 'post',
  path: '/',
  summary: 'Start a transfer (saga: debit source → credit destination; a rejection refunds the debit)',
  request: { ...jsonBody(CreateTransfer), headers: FlowHeaders },
  responses: {
    200: jsonResponse(TransferEnvelope, 'The transfer finished within Prefer: wait'),
    202: jsonResponse(TransferEnvelope, 'The transfer is running; Location points to it'),
    ...rejectedResponse,
    ...conflictResponse,
    ...commonErrors,
  },
});

const get = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'Read a transfer with its steps',
  request: { params: z.object({ id: Id }) },
  responses: { 200: jsonResponse(TransferEnvelope, 'The transfer'), ...notFoundResponse, ...commonErrors },
});

export function transfersRouter(deps: AppDeps) {
  const { config } = deps;
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  async function load(id: string, live?: TransferProgress, ask = true): Promise<TransferView | undefined> {
    const row = await Transfer.findByPk(id);
    const closed = row ? terminalTransferStatuses.includes(row.status as TransferStatus) : false;
    const progress = live ?? (!ask ? undefined : await askProgress(deps, workflowIds.transfer(id), transferQuery, { closed, hasRow: !!row }));
    if (!row && !progress) return undefined;
    const base = row ?? progress!;
    return {
      id,
      status: mergeStatus(row?.status as TransferStatus | undefined, progress?.status, terminalTransferStatuses, 'RUNNING'),
      fromAccountId: base.fromAccountId,
      toAccountId: base.toAccountId,
      amount: Number(base.amount),
      currency: base.currency,
      memo: base.memo ?? null,
      reason: row?.reason ?? progress?.reason?.message ?? null,
      reasonCode: row?.reasonCode ?? progress?.reason?.code ?? null,
      steps: stepsView(progress?.steps),
      createdAt: iso(row?.createdAt),
    };
  }

  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    // Raw SQL on the hot path: the same query without the ORM's per-call overhead (model building, instances).
    const accounts = await select<{ id: string; currency: string }>(deps.db, 'SELECT id, currency FROM accounts WHERE id IN (?, ?)', [
      body.fromAccountId,
      body.toAccountId,
    ]);
    for (const accountId of [body.fromAccountId, body.toAccountId]) {
      const a = accounts.find((x) => x.id === accountId);
      if (!a) throw rejected(`account ${accountId} does not exist`, BusinessErrors.AccountNotFound);
      if (a.currency !== body.currency) throw rejected(`account ${accountId} holds ${a.currency}, not ${body.currency}`, BusinessErrors.CurrencyMismatch);
    }
    if (body.fromAccountId === body.toAccountId) throw rejected('source and destination are the same account', BusinessErrors.SameAccount);

    const r = await postFlow(
      deps,
      { principal: c.get('principal'), idempotencyKey: headers['idempotency-key'], prefer: headers.prefer, body },
      {
        type: 'transfer',
        collection: '/v1/transfers',
        terminal: terminalTransferStatuses,
        start: (id) =>
          startFlow(deps, transferMoney, {
            workflowId: workflowIds.transfer(id),
            args: [{ id, ...body, memo: body.memo ?? null, timeouts: stepTimeouts(config), ...(config.flows.localActivities ? { localActivities: true } : {}) }],
            typedSearchAttributes: [
              { key: TransferIdKey, value: id },
              { key: CustomerIdKey, value: body.fromAccountId },
              { key: FlowStatusKey, value: 'RUNNING' },
            ],
            staticSummary: `Transfer ${money(body.amount, body.currency)} ${body.fromAccountId} → ${body.toAccountId}`,
          }),
        load: (id, result: TransferProgress | undefined) => load(id, result, false),
        pending: (id) => pendingView(id, body),
      },
    );
    return ok(c, r.view, r.status, r.headers);
  });

  router.openapi(get, async (c) => {
    const view = await load(c.req.valid('param').id);
    if (!view) throw notFound('transfer');
    return ok(c, view);
  });

  return router;
}

function pendingView(id: string, body: z.infer<typeof CreateTransfer>): TransferView {
  return { id, status: 'RUNNING', ...body, memo: body.memo ?? null, reason: null, reasonCode: null, steps: [], createdAt: null };
}

export function stepTimeouts(config: AppDeps['config']) {
  return {
    stepStartToCloseMs: config.flows.stepStartToCloseMs,
    stepScheduleToCloseMs: config.flows.stepScheduleToCloseMs,
    compensationStuckAfterMs: config.flows.compensationStuckAfterMs,
  };
}
