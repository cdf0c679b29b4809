// The transfer flow: transferMoney across ledger shards, started and read by /v1/transfers.
import { join } from 'node:path';
import type { FlowDefinition } from '../../platform/flow';
import { transfersRouter } from './route';

export const transfer: FlowDefinition = {
  name: 'transfer',
  workflowsPath: join(__dirname, 'workflow'),
  searchAttributes: { TransferId: 'Keyword' },
  routes: (deps) => [transfersRouter(deps)],
};
