// /v1/transfers — start a transfer saga, read it back, cancel it. The transfer's row lives on its source account's
// ledger shard (its id is drawn to hash there), so GET reads exactly one shard.
//
// The HTTP face only: validation, the checks known before starting (4001), and the answer. The run is accepted,
// waited for and cancelled in accept.ts (which hands a batched transfer to batcher.ts, any other to single.ts), and
// read back in view.ts. Two modes (TRANSFER_MODE): `single` starts a transferMoney workflow per transfer; `batched`
// (default) gathers the sagas that arrive together into one transferBatch run.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { conflict, notFound, ok } from '../../platform/http/envelope';
import { answerOf } from '../../platform/http/flow-post';
import { Amount, commonErrors, conflictResponse, Currency, envelopeOf, flowRoutes, Id, jsonResponse, notFoundResponse, Text } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { createTransfers, type TransferRequest } from './accept';
import { terminalTransferStatuses } from './contract';
import { Consistency, createTransferReads, pendingView, TransferView } from './view';

const CreateTransfer = z
  .object({ fromAccountId: Id, toAccountId: Id, amount: Amount, currency: Currency, memo: Text(256).optional(), consistency: Consistency.optional() })
  .openapi('CreateTransfer');
type CreateTransfer = z.infer<typeof CreateTransfer>;
const TransferEnvelope = envelopeOf(TransferView, 'TransferEnvelope');

const { create, get } = flowRoutes(
  'transfer',
  CreateTransfer,
  TransferEnvelope,
  'Start a transfer under the guarantee it names (saga: debit → credit; tcc: hold → confirm or cancel; xa: two-phase commit across the shard databases)',
);
const cancel = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel a running transfer: undone if it has not credited the destination yet, else it completes',
  request: { params: z.object({ id: Id }) },
  responses: { 202: jsonResponse(TransferEnvelope, 'Cancellation requested'), ...notFoundResponse, ...conflictResponse, ...commonErrors },
});

export function transfersRouter(deps: AppDeps): Mount {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const transfers = createTransfers(deps);
  const load = createTransferReads(deps);

  router.openapi(create, async (c) => {
    const { consistency = deps.config.flows.transferConsistency, ...body } = c.req.valid('json');
    const headers = c.req.valid('header');
    const request: TransferRequest = {
      principal: c.get('principal'),
      idempotencyKey: headers['idempotency-key'],
      prefer: headers.prefer,
      body: { ...body, consistency },
      transfer: { ...body, memo: body.memo ?? null, consistency },
    };
    const { id, result, waited } = await transfers.accept(request);
    // Without an Idempotency-Key and without a wait the transfer is brand new and has written nothing yet: its pending
    // view needs no database round trip. Otherwise it is read back (with a key it may be an earlier one).
    const fresh = !request.idempotencyKey && waited === 0;
    const pending = pendingView(id, { ...body, consistency });
    const view = fresh ? pending : ((await load(id, result, false)) ?? pending);
    const { status, headers: location } = answerOf(view, waited, terminalTransferStatuses, `/v1/transfers/${id}`);
    return ok(c, view, status, location);
  });

  router.openapi(get, async (c) => {
    const view = await load(c.req.valid('param').id);
    if (!view) throw notFound('transfer');
    return ok(c, view);
  });

  router.openapi(cancel, async (c) => {
    const { id } = c.req.valid('param');
    const view = await load(id);
    if (!view) throw notFound('transfer');
    if (terminalTransferStatuses.includes(view.status)) throw conflict(`transfer is ${view.status}`);
    await transfers.cancel(id);
    return ok(c, view, 202);
  });

  return { path: '/v1/transfers', router };
}
