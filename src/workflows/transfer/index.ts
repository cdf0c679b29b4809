// The transfer flow: transferMoney across ledger shards, started and read by /v1/transfers.
import type { FlowDefinition } from '../../platform/flow';
import { batchOfTransfer, transferBatchWorkflowId } from './contract';
import { transfersRouter } from './route';

export const transfer: FlowDefinition = {
  name: 'transfer',
  workflowsPath: `${__dirname}/workflow`, // the module path; this file itself is never bundled
  searchAttributes: { TransferId: 'KeywordList' },
  routes: (deps) => [transfersRouter(deps)],
  // A batched transfer's flow id is `transfer-<batch>.<n>`; it runs in `transfers-<batch>`.
  runOf: (flowId) => {
    const batch = flowId.startsWith('transfer-') ? batchOfTransfer(flowId.slice('transfer-'.length)) : undefined;
    return batch && transferBatchWorkflowId(batch);
  },
};
