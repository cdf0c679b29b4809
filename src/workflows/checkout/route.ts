// /v1/orders — start a checkout (TCC stock + payment, approval over the threshold), read it, approve or cancel it.
// The order's row lives in the orders database; its live steps come from the flow.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { InventoryErrors } from '../../activities/inventory/contract';
import { findProducts } from '../../activities/inventory/reads';
import { LedgerErrors } from '../../activities/ledger/contract';
import { findAccount } from '../../activities/ledger/reads';
import { MAX_ORDER_TOTAL, orderTotal, OrderErrors } from '../../activities/orders/contract';
import { findOrder } from '../../activities/orders/reads';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { conflict, notFound, ok, rejected } from '../../platform/http/envelope';
import { postFlow } from '../../platform/http/flow-post';
import { stepTimeouts, topologyOf } from '../../platform/http/flow-input';
import { askProgress, startFlow } from '../../platform/http/flow-temporal';
import {
  commonErrors,
  conflictResponse,
  envelopeOf,
  flowRoutes,
  Id,
  jsonResponse,
  notFoundResponse,
  Step,
  Text,
  Timestamp,
} from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { iso, mergeStatus, stepsView } from '../../platform/http/views';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import {
  approveOrderUpdate,
  cancelOrderUpdate,
  OrderIdKey,
  orderProgressQuery,
  orderWorkflowId,
  terminalOrderStatuses,
  type OrderProgress,
  type OrderStatus,
} from './contract';

const Line = z.object({ sku: Id, quantity: z.number().int().min(1).max(1000) });
const CreateOrder = z
  .object({ customerId: Id, paymentAccountId: Id, items: z.array(Line).min(1).max(50) })
  .openapi('CreateOrder');
const CancelOrder = z.object({ reason: Text(256).optional() }).openapi('CancelOrder');

const OrderView = z
  .object({
    id: z.string(),
    status: z.enum(['PENDING', 'AWAITING_APPROVAL', 'CONFIRMED', 'CANCELLED', 'FAILED']),
    customerId: z.string(),
    paymentAccountId: z.string(),
    total: z.number().int().nullable(),
    currency: z.string().nullable(),
    items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), price: z.number().int().nullable() })),
    reason: z.string().nullable(),
    reasonCode: z.string().nullable(),
    steps: z.array(Step),
    createdAt: Timestamp.nullable(),
  })
  .openapi('Order');
type OrderView = z.infer<typeof OrderView>;
const OrderEnvelope = envelopeOf(OrderView, 'OrderEnvelope');
const IdParam = z.object({ id: Id });

const { create, get } = flowRoutes('order', CreateOrder, OrderEnvelope, 'Check out an order (TCC: stock per line, payment hold; approval over the threshold)');
const approve = createRoute({
  method: 'post',
  path: '/{id}/approve',
  summary: 'Approve an order that awaits approval',
  request: { params: IdParam },
  responses: { 202: jsonResponse(OrderEnvelope, 'Accepted'), ...notFoundResponse, ...conflictResponse, ...commonErrors },
});
const cancel = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel an order that is not yet confirmed',
  request: { params: IdParam, body: { content: { 'application/json': { schema: CancelOrder } }, required: false } },
  responses: { 202: jsonResponse(OrderEnvelope, 'Accepted'), ...notFoundResponse, ...conflictResponse, ...commonErrors },
});

/** The order as the API shows it: its row (orders database) merged with the flow's live progress. */
async function loadOrder(deps: AppDeps, id: string, live?: OrderProgress, ask = true): Promise<OrderView | undefined> {
  const row = await findOrder(deps.stores.db('orders'), id);
  const closed = row ? terminalOrderStatuses.includes(row.status as OrderStatus) : false;
  const progress = live ?? (!ask ? undefined : await askProgress(deps, orderWorkflowId(id), orderProgressQuery, { closed, hasRow: !!row }));
  if (!row && !progress) return undefined;
  const items = row?.items?.length
    ? row.items
    : (progress?.items ?? []).map((i) => ({ sku: i.sku, quantity: i.quantity, price: i.price ?? null }));
  return {
    id,
    status: mergeStatus(row?.status as OrderStatus | undefined, progress?.status, terminalOrderStatuses, 'PENDING'),
    customerId: row?.customerId ?? progress!.customerId,
    paymentAccountId: row?.paymentAccountId ?? progress!.paymentAccountId,
    total: row ? row.total : (progress?.total ?? null),
    currency: row?.currency ?? progress?.currency ?? null,
    items,
    reason: row?.reason ?? progress?.reason?.message ?? null,
    reasonCode: row?.reasonCode ?? progress?.reason?.code ?? null,
    steps: stepsView(progress?.steps),
    createdAt: iso(row?.createdAt),
  };
}

/** What a checkout is told of the shop's policy, fixed at its start. */
function policyOf({ flows }: AppDeps['config']) {
  return {
    approvalThreshold: flows.approvalThreshold,
    approvalTimeoutMs: flows.approvalTimeoutMs,
    pointsPerMinorUnits: flows.pointsPerMinorUnits,
    merchantAccountId: flows.merchantAccountId,
    merchantSubAccounts: flows.merchantSubAccounts,
  };
}

/** An order the API accepted whose flow has not said anything yet. */
function pendingOrder(id: string, body: z.infer<typeof CreateOrder>): OrderView {
  return {
    id,
    status: 'PENDING',
    ...body,
    items: body.items.map((i) => ({ ...i, price: null })),
    total: null,
    currency: null,
    reason: null,
    reasonCode: null,
    steps: [],
    createdAt: null,
  };
}

/** Runs an update; a validator's refusal or a closed flow is 409, an unknown order 404. */
async function updateOrder(deps: AppDeps, id: string, run: (h: WorkflowHandle) => Promise<OrderProgress>): Promise<OrderView> {
  const { temporal } = deps;
  const handle = temporal.workflow.getHandle(orderWorkflowId(id));
  try {
    const progress = await temporal.connection.withDeadline(Date.now() + 10_000, () => run(handle));
    return (await loadOrder(deps, id, progress))!;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw conflict((err.cause as Error | undefined)?.message ?? 'not allowed now');
    if (err instanceof WorkflowNotFoundError || (err as { code?: number })?.code === 5) {
      if (await loadOrder(deps, id)) throw conflict('the order is already finished');
      throw notFound('order');
    }
    throw err;
  }
}

export function ordersRouter(deps: AppDeps): Mount {
  const { config, stores } = deps;
  const load = (id: string, live?: OrderProgress, ask = true) => loadOrder(deps, id, live, ask);
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  /** Rejections known before starting (4001): read the payer on its shard and the products, at once. */
  async function prevalidate(body: z.infer<typeof CreateOrder>) {
    const skus = [...new Set(body.items.map((i) => i.sku))];
    const [account, products] = await Promise.all([findAccount(stores, body.paymentAccountId), findProducts(stores.db('inventory'), skus)]);
    if (!account) throw rejected(`account ${body.paymentAccountId} does not exist`, LedgerErrors.AccountNotFound);
    const prices = new Map<string, number>();
    for (const sku of skus) {
      const p = products.find((x) => x.sku === sku);
      if (!p) throw rejected(`product ${sku} does not exist`, InventoryErrors.ProductNotFound);
      if (p.currency !== account.currency) {
        throw rejected(`product ${sku} is priced in ${p.currency}; the account holds ${account.currency}`, LedgerErrors.CurrencyMismatch);
      }
      prices.set(sku, p.price);
    }
    // The orders service refuses such a total at creation; at today's prices it is known here already. (A price raised
    // between this read and the flow's pricing is still refused there, the order then CANCELLED.)
    const total = orderTotal(body.items.map((i) => ({ ...i, price: prices.get(i.sku)! })));
    if (total > MAX_ORDER_TOTAL) throw rejected(`the order totals ${total} minor units, more than ${MAX_ORDER_TOTAL}`, OrderErrors.TotalTooLarge);
  }

  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    await prevalidate(body);
    const policy = policyOf(config);
    const r = await postFlow(
      deps,
      { principal: c.get('principal'), idempotencyKey: headers['idempotency-key'], prefer: headers.prefer, body },
      {
        type: 'order',
        collection: '/v1/orders',
        terminal: terminalOrderStatuses,
        start: (id) =>
          startFlow(deps, 'checkoutOrder', {
            workflowId: orderWorkflowId(id),
            args: [{ id, ...body, policy, timeouts: stepTimeouts(deps), topology: topologyOf(deps) }],
            typedSearchAttributes: [
              { key: OrderIdKey, value: id },
              { key: FlowStatusKey, value: 'PENDING' },
            ],
            staticSummary: `Order of ${body.items.length} line(s) for ${body.customerId}, paid from ${body.paymentAccountId}`,
          }),
        load: (id, result: OrderProgress | undefined) => load(id, result, false),
        pending: (id) => pendingOrder(id, body),
      },
    );
    return ok(c, r.view, r.status, r.headers);
  });

  router.openapi(get, async (c) => {
    const view = await load(c.req.valid('param').id);
    if (!view) throw notFound('order');
    return ok(c, view);
  });

  router.openapi(approve, async (c) => {
    const { id } = c.req.valid('param');
    return ok(c, await updateOrder(deps, id, (h) => h.executeUpdate(approveOrderUpdate)), 202);
  });

  router.openapi(cancel, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
    return ok(c, await updateOrder(deps, id, (h) => h.executeUpdate(cancelOrderUpdate, { args: [{ reason: body?.reason, by: 'customer' }] })), 202);
  });

  return { path: '/v1/orders', router };
}
