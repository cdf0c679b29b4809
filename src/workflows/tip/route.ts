// /v1/tips — tip the merchant from an account (and earn points), read it back. A tip is recorded like a transfer to
// the merchant, on the payer's ledger shard.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { LedgerErrors } from '../../activities/ledger/contract';
import { accountFacts, findTransfer, newTransferId } from '../../activities/ledger/reads';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { notFound, ok, rejected } from '../../platform/http/envelope';
import { postFlow } from '../../platform/http/flow-post';
import { stepTimeouts, topologyOf } from '../../platform/http/flow-input';
import { askProgress, startFlow } from '../../platform/http/flow-temporal';
import { Amount, Currency, envelopeOf, flowRoutes, Id, Step } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { mergeStatus, stepsView } from '../../platform/http/views';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { terminalTipStatuses, TipIdKey, tipProgressQuery, tipWorkflowId, type TipProgress, type TipStatus } from './contract';

const CreateTip = z.object({ fromAccountId: Id, customerId: Id, amount: Amount, currency: Currency }).openapi('CreateTip');
const TipView = z
  .object({
    id: z.string(),
    status: z.enum(['RUNNING', 'COMPLETED', 'COMPENSATED', 'FAILED']),
    fromAccountId: z.string(),
    customerId: z.string().nullable(),
    amount: z.number().int(),
    currency: z.string(),
    points: z.number().int().nullable(),
    reason: z.string().nullable(),
    steps: z.array(Step),
  })
  .openapi('Tip');
type TipView = z.infer<typeof TipView>;
const TipEnvelope = envelopeOf(TipView, 'TipEnvelope');

const { create, get } = flowRoutes('tip', CreateTip, TipEnvelope, 'Tip the merchant (saga: debit → merchant credit → points)');

export function tipsRouter(deps: AppDeps): Mount {
  const { config, stores } = deps;
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  async function load(id: string, live?: TipProgress): Promise<TipView | undefined> {
    const row = await findTransfer(stores, id);
    const closed = row ? terminalTipStatuses.includes(row.status as TipStatus) : false;
    const progress = live ?? (await askProgress(deps, tipWorkflowId(id), tipProgressQuery, { closed, hasRow: !!row }));
    if (!row && !progress) return undefined;
    return {
      id,
      status: mergeStatus(row?.status as TipStatus | undefined, progress?.status, terminalTipStatuses, 'RUNNING'),
      fromAccountId: row?.from_account_id ?? progress!.fromAccountId,
      customerId: progress?.customerId ?? null,
      amount: Number(row?.amount ?? progress!.amount),
      currency: row?.currency ?? progress!.currency,
      points: progress?.points ?? null,
      reason: row?.reason ?? progress?.reason?.message ?? null,
      steps: stepsView(progress?.steps),
    };
  }

  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    const payer = await accountFacts(stores, body.fromAccountId);
    if (!payer) throw rejected(`account ${body.fromAccountId} does not exist`, LedgerErrors.AccountNotFound);
    if (payer.currency !== body.currency) throw rejected(`account ${body.fromAccountId} holds ${payer.currency}, not ${body.currency}`, LedgerErrors.CurrencyMismatch);
    const r = await postFlow(
      deps,
      { principal: c.get('principal'), idempotencyKey: headers['idempotency-key'], prefer: headers.prefer, body },
      {
        type: 'tip',
        newId: () => newTransferId(stores, body.fromAccountId),
        collection: '/v1/tips',
        terminal: terminalTipStatuses,
        start: (id) =>
          startFlow(deps, 'tipMerchant', {
            workflowId: tipWorkflowId(id),
            args: [
              {
                id,
                ...body,
                merchantAccountId: config.flows.merchantAccountId,
                pointsPerMinorUnits: config.flows.pointsPerMinorUnits,
                timeouts: stepTimeouts(deps),
                topology: topologyOf(deps),
              },
            ],
            typedSearchAttributes: [
              { key: TipIdKey, value: id },
              { key: FlowStatusKey, value: 'RUNNING' },
            ],
          }),
        load: (id, result: TipProgress | undefined) => load(id, result),
        pending: (id): TipView => ({ id, status: 'RUNNING', ...body, points: null, reason: null, steps: [] }),
      },
    );
    return ok(c, r.view, r.status, r.headers);
  });

  router.openapi(get, async (c) => {
    const view = await load(c.req.valid('param').id);
    if (!view) throw notFound('tip');
    return ok(c, view);
  });

  return { path: '/v1/tips', router };
}
