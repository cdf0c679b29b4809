// The checkout flow: checkoutOrder across inventory, orders, the ledger and loyalty, driven by /v1/orders.
import { join } from 'node:path';
import type { FlowDefinition } from '../../platform/flow';
import { ordersRouter } from './route';

export const checkout: FlowDefinition = {
  name: 'checkout',
  workflowsPath: join(__dirname, 'workflow'),
  searchAttributes: { OrderId: 'Keyword' },
  routes: (deps) => [ordersRouter(deps)],
};
