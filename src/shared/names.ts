// Names shared by the API, workflows and activities. Sandbox-safe: no Node imports.

/** Workflow ids are business keys, so Temporal itself refuses a second flow for the same business id. */
export const workflowIds = {
  transfer: (id: string) => `transfer-${id}`,
  order: (id: string) => `order-${id}`,
} as const;

/** Custom search attributes registered on the Temporal namespace (type Keyword). */
export const searchAttributes = {
  TransferId: 'Keyword',
  OrderId: 'Keyword',
  CustomerId: 'Keyword',
  FlowStatus: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof searchAttributes;
