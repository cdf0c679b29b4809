// The tip flow: tipMerchant across the payer's ledger shard, the merchant's shard and loyalty, driven by /v1/tips.
import { join } from 'node:path';
import type { FlowDefinition } from '../../platform/flow';
import { tipsRouter } from './route';

export const tip: FlowDefinition = {
  name: 'tip',
  workflowsPath: join(__dirname, 'workflow'),
  searchAttributes: { TipId: 'Keyword' },
  routes: (deps) => [tipsRouter(deps)],
};
