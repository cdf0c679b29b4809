// /v1/transfers — start a transfer saga, read it back, cancel it. The transfer's row lives on its source account's
// ledger shard (its id is drawn to hash there), so GET reads exactly one shard.
//
// Two modes (TRANSFER_MODE): `single` starts a transferMoney workflow per transfer; `batched` (default) hands each
// transfer to this process's group commit (batcher.ts), which starts one transferBatch run for the transfers that
// arrived while the previous batch was starting. A batched transfer's id names its batch, so GET, Prefer: wait and
// cancel reach its run from the id alone, in any API process.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { LedgerErrors } from '../../domains/ledger/contract';
import { findAccount, findTransfer, newTransferId } from '../../domains/ledger/reads';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { conflict, notFound, ok, rejected } from '../../platform/http/envelope';
import { postFlow } from '../../platform/http/flow-post';
import { askProgress, startFlow, startWithUpdate, stepTimeouts, topologyOf } from '../../platform/http/flow-temporal';
import { Amount, commonErrors, conflictResponse, Currency, envelopeOf, flowRoutes, Id, jsonResponse, notFoundResponse, Step, Text, Timestamp } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { iso, mergeStatus, stepsView } from '../../platform/http/views';
import { CustomerIdKey, FlowStatusKey } from '../../platform/workflow/search-attributes';
import { createTransferBatcher, rejoinBatch, transferSummary } from './batcher';
import {
  awaitTransferUpdate,
  batchedTransferQuery,
  batchOfTransfer,
  cancelTransferSignal,
  terminalTransferStatuses,
  TransferIdKey,
  transferBatchWorkflowId,
  transferProgressQuery,
  transferWorkflowId,
  type BatchedTransfer,
  type TransferBatchResult,
  type TransferProgress,
  type TransferStatus,
} from './contract';

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

const { create, get } = flowRoutes('transfer', CreateTransfer, TransferEnvelope, 'Start a transfer (saga: debit source → credit destination; a rejection refunds the debit)');
const cancel = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel a running transfer: undone if it has not credited the destination yet, else it completes',
  request: { params: z.object({ id: Id }) },
  responses: { 202: jsonResponse(TransferEnvelope, 'Cancellation requested'), ...notFoundResponse, ...conflictResponse, ...commonErrors },
});

export function transfersRouter(deps: AppDeps): Mount {
  const { config, stores } = deps;
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  const batcher = config.flows.transfers.mode === 'batched' ? createTransferBatcher(deps) : undefined;

  /** The transfer's live progress from its run (a batch is asked for this one transfer). */
  function progressOf(id: string, known: { closed: boolean; hasRow: boolean }): Promise<TransferProgress | undefined> {
    const batch = batchOfTransfer(id);
    if (!batch) return askProgress(deps, transferWorkflowId(id), transferProgressQuery, known);
    const pick = (r: TransferBatchResult) => r.transfers.find((t) => t.id === id);
    return askProgress(deps, transferBatchWorkflowId(batch), batchedTransferQuery, { ...known, args: [id], pick });
  }

  async function load(id: string, live?: TransferProgress, ask = true): Promise<TransferView | undefined> {
    const row = await findTransfer(stores, id);
    const closed = row ? terminalTransferStatuses.includes(row.status as TransferStatus) : false;
    const progress = live ?? (!ask ? undefined : await progressOf(id, { closed, hasRow: !!row }));
    if (!row && !progress) return undefined;
    return {
      id,
      status: mergeStatus(row?.status as TransferStatus | undefined, progress?.status, terminalTransferStatuses, 'RUNNING'),
      fromAccountId: row?.from_account_id ?? progress!.fromAccountId,
      toAccountId: row?.to_account_id ?? progress!.toAccountId,
      amount: Number(row?.amount ?? progress!.amount),
      currency: row?.currency ?? progress!.currency,
      memo: (row ? row.memo : progress?.memo) ?? null,
      reason: row?.reason ?? progress?.reason?.message ?? null,
      reasonCode: row?.reason_code ?? progress?.reason?.code ?? null,
      steps: stepsView(progress?.steps),
      createdAt: iso(row?.created_at),
    };
  }

  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    if (body.fromAccountId === body.toAccountId) throw rejected('source and destination are the same account', LedgerErrors.SameAccount);
    // Each account is read on its own shard (both at once): rejections known before starting are 4001, not a flow.
    const accounts = await Promise.all([body.fromAccountId, body.toAccountId].map((accountId) => findAccount(stores, accountId)));
    for (const [i, accountId] of [body.fromAccountId, body.toAccountId].entries()) {
      const a = accounts[i];
      if (!a) throw rejected(`account ${accountId} does not exist`, LedgerErrors.AccountNotFound);
      if (a.currency !== body.currency) throw rejected(`account ${accountId} holds ${a.currency}, not ${body.currency}`, LedgerErrors.CurrencyMismatch);
    }

    const transfer = { ...body, memo: body.memo ?? null };
    // A batched request takes its place in the open batch first: its id (`<batch>.<n>`) names the batch.
    const place = batcher?.reserve(body.fromAccountId);
    try {
      const r = await postFlow(
        deps,
        { principal: c.get('principal'), idempotencyKey: headers['idempotency-key'], prefer: headers.prefer, body },
        {
          type: 'transfer',
          newId: () => place?.id ?? newTransferId(stores, body.fromAccountId),
          collection: '/v1/transfers',
          terminal: terminalTransferStatuses,
          start: (id) => {
            if (place?.id === id) return place.submit({ id, ...transfer });
            place?.abandon(); // the key named an earlier transfer: that one is joined, not a new one
            return batchOfTransfer(id) ? rejoinBatch(deps, { id, ...transfer }) : startSingle(id, { id, ...transfer });
          },
          load: (id, result: TransferProgress | undefined) => load(id, result, false),
          pending: (id) => pendingView(id, body),
          ...(batcher
            ? { wait: (handle, id, seconds) => batcher.wait(handle, id, seconds) }
            : { startAndWait: (id, seconds) => startWithUpdate(deps, 'transferMoney', singleOptions(id, { id, ...transfer }), awaitTransferUpdate, [id], seconds) }),
        },
      );
      return ok(c, r.view, r.status, r.headers);
    } finally {
      place?.abandon(); // a no-op once submitted; frees the place when the request failed before its start
    }
  });

  /** Single mode (and keys claimed by it): a transferMoney workflow of its own. */
  function startSingle(id: string, transfer: BatchedTransfer) {
    return startFlow(deps, 'transferMoney', singleOptions(id, transfer));
  }

  function singleOptions(id: string, transfer: BatchedTransfer) {
    return {
      workflowId: transferWorkflowId(id),
      args: [{ ...transfer, timeouts: stepTimeouts(config), topology: topologyOf(deps) }],
      typedSearchAttributes: [
        { key: TransferIdKey, value: [id] },
        { key: CustomerIdKey, value: transfer.fromAccountId },
        { key: FlowStatusKey, value: 'RUNNING' },
      ],
      staticSummary: transferSummary(transfer),
    };
  }

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
    const batch = batchOfTransfer(id);
    if (batch) await deps.temporal.workflow.getHandle(transferBatchWorkflowId(batch)).signal(cancelTransferSignal, id);
    else await deps.temporal.workflow.getHandle(transferWorkflowId(id)).cancel();
    return ok(c, view, 202);
  });

  return { path: '/v1/transfers', router };
}

function pendingView(id: string, body: z.infer<typeof CreateTransfer>): TransferView {
  return { id, status: 'RUNNING', ...body, memo: body.memo ?? null, reason: null, reasonCode: null, steps: [], createdAt: null };
}
