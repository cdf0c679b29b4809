// The tip flow: tipMerchant across the payer's ledger shard, the merchant's shard and loyalty, driven by /v1/tips.
import type { FlowDefinition } from '../../platform/flow';
import { tipsRouter } from './route';

export const tip: FlowDefinition = {
  name: 'tip',
  workflowsPath: `${__dirname}/workflow`, // the module path; this file itself is never bundled
  searchAttributes: { TipId: 'Keyword' },
  routes: (deps) => [tipsRouter(deps)],
};
