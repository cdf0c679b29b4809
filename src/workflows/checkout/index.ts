// The checkout flow: checkoutOrder across inventory, orders, the ledger and loyalty, driven by /v1/orders.
import type { FlowDefinition } from '../../platform/flow';
import { ordersRouter } from './route';

export const checkout: FlowDefinition = {
  name: 'checkout',
  workflowsPath: `${__dirname}/workflow`, // the module path; this file itself is never bundled
  searchAttributes: { OrderId: 'Keyword' },
  routes: (deps) => [ordersRouter(deps)],
};
