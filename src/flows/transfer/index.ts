// The transfer flow: transferMoney across ledger shards, started and read by /v1/transfers.
import type { FlowDefinition } from '../../platform/flow';
import { transfersRouter } from './route';

export const transfer: FlowDefinition = {
  name: 'transfer',
  workflowsPath: `${__dirname}/workflow`, // the module path; this file itself is never bundled
  searchAttributes: { TransferId: 'Keyword' },
  routes: (deps) => [transfersRouter(deps)],
};
