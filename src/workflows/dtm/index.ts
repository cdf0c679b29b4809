// The DTM-protocol flow: one dtmTransaction workflow per global transaction, driven by DTM's HTTP API at /api/dtmsvr.
import type { FlowDefinition } from '../../platform/flow';
import { dtmRouter } from './route';

export const dtm: FlowDefinition = {
  name: 'dtm',
  workflowsPath: `${__dirname}/workflow`, // the module path; this file itself is never bundled
  searchAttributes: { Gid: 'Keyword', TransType: 'Keyword' },
  routes: (deps) => [dtmRouter(deps)],
};
