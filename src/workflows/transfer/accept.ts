// A transfer's run from the API's side. Accepting a POST: the checks known before starting (4001), the id claimed against its Idempotency-Key, the run joined
// or started — a place in the open batch (batcher.ts), the batch a retried key names, or a run of its own (single.ts) —
// and waited for as Prefer asks. Cancelling: the batch that holds the transfer is told, or its own run is cancelled.
import { WorkflowNotFoundError } from '@temporalio/client';
import { LedgerErrors } from '../../activities/ledger/contract';
import { accountFacts, newTransferId } from '../../activities/ledger/reads';
import { rejected } from '../../platform/http/envelope';
import type { AppDeps } from '../../platform/http/deps';
import { claimRequest, countFlow, type FlowRequest } from '../../platform/http/flow-post';
import { waitSeconds } from '../../platform/http/schemas';
import { createTransferBatcher } from './batcher';
import { batchOfTransfer, cancelTransferSignal, transferBatchWorkflowId, transferWorkflowId, type BatchedTransfer } from './contract';
import { runAlone, type Accepted } from './single';

export interface TransferRequest extends FlowRequest {
  transfer: Omit<BatchedTransfer, 'id'>;
}

export interface AcceptedTransfer extends Accepted {
  id: string;
  /** The seconds Prefer: wait asked for (0: none). */
  waited: number;
}

export function createTransfers(deps: AppDeps) {
  const batcher = createTransferBatcher(deps);
  const batched = deps.config.flows.transfers.mode === 'batched';

  async function accept(request: TransferRequest): Promise<AcceptedTransfer> {
    const { transfer } = request;
    const waited = waitSeconds(request.prefer);
    // A batched saga takes its place in the open batch first: its id (`<batch>.<n>`) names the batch. tcc and xa
    // transfers always run on their own (their branches and XA ids are per run), with an id drawn onto the source's
    // shard.
    await checkAccounts(deps, transfer);
    const place = batched && transfer.consistency === 'saga' ? batcher.reserve(transfer.fromAccountId) : undefined;
    const drawn = place?.id ?? newTransferId(deps.stores, transfer.fromAccountId);
    try {
      const id = await claimRequest(deps, request, 'transfer', () => drawn);
      const mine = place?.id === id;
      if (!mine) place?.abandon(); // the key named an earlier transfer: that one is joined, not a new one
      const t = { id, ...transfer };
      const accepted = mine ? await place.submit(t, waited) : batchOfTransfer(id) ? await batcher.rejoin(t, waited) : await runAlone(deps, t, waited);
      countFlow(deps, 'transfer', accepted.started, accepted.result);
      return { id, waited, ...accepted };
    } finally {
      place?.abandon(); // a no-op once submitted; frees the place when the request failed before its start
    }
  }

  /** Asks the run of transfer `id` to cancel it: its own run, else the batch that holds it. */
  async function cancel(id: string): Promise<void> {
    const batch = batchOfTransfer(id);
    try {
      await deps.temporal.workflow.getHandle(transferWorkflowId(id)).cancel();
    } catch (err) {
      if (!batch || !(err instanceof WorkflowNotFoundError)) throw err;
      await deps.temporal.workflow.getHandle(transferBatchWorkflowId(batch)).signal(cancelTransferSignal, id);
    }
  }

  return { accept, cancel };
}

/**
 * Rejections known before starting are 4001, not a flow: each account's facts (it exists, its currency) are read on its
 * own shard (both at once) the first time, from memory after that. A balance is never checked here: the debit decides.
 */
async function checkAccounts({ stores }: Pick<AppDeps, 'stores'>, t: Pick<BatchedTransfer, 'fromAccountId' | 'toAccountId' | 'currency'>) {
  if (t.fromAccountId === t.toAccountId) throw rejected('source and destination are the same account', LedgerErrors.SameAccount);
  const ids = [t.fromAccountId, t.toAccountId];
  const accounts = await Promise.all(ids.map((accountId) => accountFacts(stores, accountId)));
  for (const [i, accountId] of ids.entries()) {
    const a = accounts[i];
    if (!a) throw rejected(`account ${accountId} does not exist`, LedgerErrors.AccountNotFound);
    if (a.currency !== t.currency) throw rejected(`account ${accountId} holds ${a.currency}, not ${t.currency}`, LedgerErrors.CurrencyMismatch);
  }
}
