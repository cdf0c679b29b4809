// One transfer as a run of its own (transferMoney, workflow `transfer-<id>`): single mode, every tcc and xa transfer,
// and a batched transfer whose batch closed without it (its start failed, or the API stopped after the key was
// claimed). Started with update-with-start when the caller waits, so one call starts it and returns its end.
import type { AppDeps } from '../../platform/http/deps';
import { stepTimeouts, topologyOf } from '../../platform/http/flow-input';
import { startFlow, startWithUpdate, waitForResult } from '../../platform/http/flow-temporal';
import { money } from '../../platform/money';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { awaitTransferUpdate, TransferIdKey, transferWorkflowId, type BatchedTransfer, type TransferProgress } from './contract';

export const transferSummary = (t: Pick<BatchedTransfer, 'amount' | 'currency' | 'fromAccountId' | 'toAccountId'>) =>
  `Transfer ${money(t.amount, t.currency)} ${t.fromAccountId} → ${t.toAccountId}`;

/** How a transfer started (or joined) and, when the caller waited and it ended in time, its final progress. */
export interface Accepted {
  started: boolean;
  result?: TransferProgress;
}

/** Starts (or joins) transfer's own run and waits up to `seconds` for its end. */
export async function runAlone(deps: AppDeps, transfer: BatchedTransfer, seconds: number): Promise<Accepted> {
  const options = {
    workflowId: transferWorkflowId(transfer.id),
    args: [{ ...transfer, timeouts: stepTimeouts(deps), topology: topologyOf(deps) }],
    typedSearchAttributes: [
      { key: TransferIdKey, value: [transfer.id] },
      { key: FlowStatusKey, value: 'RUNNING' },
    ],
    staticSummary: transferSummary(transfer),
  };
  if (seconds > 0 && !deps.draining?.aborted) return startWithUpdate(deps, 'transferMoney', options, awaitTransferUpdate, [transfer.id], seconds);
  const { handle, started } = await startFlow(deps, 'transferMoney', options);
  return { started, result: await waitForResult<TransferProgress>(deps, handle, seconds) };
}
