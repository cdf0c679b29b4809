// /v1/transfers — start a transfer saga, read it back, cancel it. The transfer's row lives on its source account's
// ledger shard (its id is drawn to hash there), so GET reads exactly one shard.
//
// Two modes (TRANSFER_MODE): `single` starts a transferMoney workflow per transfer; `batched` (default) hands each
// transfer to this process's group commit (batcher.ts), which starts one transferBatch run for the transfers that
// arrived while the previous batch was starting. A batched transfer's id names its batch, so GET, Prefer: wait and
// cancel reach its run from the id alone, in any API process.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { LedgerErrors } from '../../activities/ledger/contract';
import { findAccount, findTransfer, newTransferId } from '../../activities/ledger/reads';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { conflict, notFound, ok, rejected } from '../../platform/http/envelope';
import { postFlow } from '../../platform/http/flow-post';
import { askProgress, startFlow, startWithUpdate, stepTimeouts, topologyOf, waitForResult } from '../../platform/http/flow-temporal';
import { Amount, commonErrors, conflictResponse, Currency, envelopeOf, flowRoutes, Id, jsonResponse, notFoundResponse, Step, Text, Timestamp } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { iso, mergeStatus, stepsView } from '../../platform/http/views';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { awaitBatchedTransfer, createTransferBatcher, rejoinBatch, transferSummary } from './batcher';
import {
  awaitTransferUpdate,
  batchedTransferQuery,
  batchOfTransfer,
  cancelTransferSignal,
  consistencies,
  terminalTransferStatuses,
  TransferIdKey,
  transferBatchWorkflowId,
  transferProgressQuery,
  transferWorkflowId,
  type BatchedTransfer,
  type Consistency as Mode,
  type TransferBatchResult,
  type TransferPhase,
  type TransferProgress,
  type TransferStatus,
} from './contract';

/** The phase a finished transfer ended in, for a run whose progress is no longer known (its history is gone). */
function finalPhase(mode: Mode, status: string): TransferPhase {
  const done = { saga: 'credited', tcc: 'confirmed', xa: 'committed' } as const;
  const undone = { saga: 'refunded', tcc: 'cancelled', xa: 'rolled-back' } as const;
  return status === 'COMPLETED' ? done[mode] : status === 'COMPENSATED' ? undone[mode] : 'started';
}

const Consistency = z.enum(consistencies).openapi('Consistency', {
  description:
    'The guarantee between the two accounts (their ledger shards may be two databases on two servers). ' +
    '`saga`: debit the source, then credit the destination (the credit is never reversed; a rejected credit refunds the debit); ' +
    'cheapest, no locks held between steps, and a reader may see the money in neither account for a moment (phases started → debited → credited, or refunded). ' +
    '`tcc`: try = hold on the source (balance → frozen) and a pending, unspendable credit on the destination; confirm applies both, cancel releases both; ' +
    'a reader sees the money held on the source and pending on the destination, never spendable twice (phases started → held → confirmed, or cancelled). ' +
    '`xa`: two-phase commit (MySQL/MariaDB XA) across the two databases: both rows stay locked from prepare to commit, and a reader never sees an intermediate state ' +
    '(phases started → prepared → committed, or rolled-back). Default: the server\'s TRANSFER_CONSISTENCY (saga unless configured).',
});
const Phase = z.enum(['started', 'debited', 'credited', 'refunded', 'held', 'confirmed', 'cancelled', 'prepared', 'committed', 'rolled-back']);

const CreateTransfer = z
  .object({ fromAccountId: Id, toAccountId: Id, amount: Amount, currency: Currency, memo: Text(256).optional(), consistency: Consistency.optional() })
  .openapi('CreateTransfer');

const TransferView = z
  .object({
    id: z.string(),
    status: z.enum(['RUNNING', 'COMPLETED', 'COMPENSATED', 'FAILED']),
    consistency: Consistency,
    phase: Phase.openapi({ description: 'Where the transfer is in its mode: see Consistency' }),
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
    const status = mergeStatus(row?.status as TransferStatus | undefined, progress?.status, terminalTransferStatuses, 'RUNNING');
    const consistency = progress?.consistency ?? 'saga';
    return {
      id,
      status,
      consistency,
      phase: progress?.phase ?? finalPhase(consistency, status),
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
    const { consistency = config.flows.transferConsistency, ...body } = c.req.valid('json');
    const headers = c.req.valid('header');
    if (body.fromAccountId === body.toAccountId) throw rejected('source and destination are the same account', LedgerErrors.SameAccount);
    // Each account is read on its own shard (both at once): rejections known before starting are 4001, not a flow.
    const accounts = await Promise.all([body.fromAccountId, body.toAccountId].map((accountId) => findAccount(stores, accountId)));
    for (const [i, accountId] of [body.fromAccountId, body.toAccountId].entries()) {
      const a = accounts[i];
      if (!a) throw rejected(`account ${accountId} does not exist`, LedgerErrors.AccountNotFound);
      if (a.currency !== body.currency) throw rejected(`account ${accountId} holds ${a.currency}, not ${body.currency}`, LedgerErrors.CurrencyMismatch);
    }

    const transfer = { ...body, memo: body.memo ?? null, consistency };
    // A batched saga takes its place in the open batch first: its id (`<batch>.<n>`) names the batch. tcc and xa
    // transfers always run as workflows of their own (their branches and XA ids are per run).
    const place = consistency === 'saga' ? batcher?.reserve(body.fromAccountId) : undefined;
    try {
      const r = await postFlow(
        deps,
        { principal: c.get('principal'), idempotencyKey: headers['idempotency-key'], prefer: headers.prefer, body: { ...body, consistency } },
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
          pending: (id) => pendingView(id, body, consistency),
          ...(place && batcher
            ? { wait: (handle, id, seconds) => (batchOfTransfer(id) ? batcher.wait(handle, id, seconds) : waitForResult<TransferProgress>(deps, handle, seconds)) }
            : {
                // One update-with-start call; a key that names a batched transfer (claimed in batched mode) rejoins its batch.
                startAndWait: async (id, seconds) => {
                  if (!batchOfTransfer(id)) return startWithUpdate(deps, 'transferMoney', singleOptions(id, { id, ...transfer }), awaitTransferUpdate, [id], seconds);
                  const { handle } = await rejoinBatch(deps, { id, ...transfer });
                  return { started: false, result: await awaitBatchedTransfer(deps, handle, id, seconds) };
                },
              }),
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

function pendingView(id: string, body: Omit<z.infer<typeof CreateTransfer>, 'consistency'>, consistency: Mode): TransferView {
  return { id, status: 'RUNNING', consistency, phase: 'started', ...body, memo: body.memo ?? null, reason: null, reasonCode: null, steps: [], createdAt: null };
}
