// The one registry of flows. The workflow bundle, the namespace's search attributes and the flow routes are derived
// from this list: a new flow is a folder exporting a FlowDefinition, plus one line here.
import type { FlowDefinition } from '../platform/flow';
import { commonSearchAttributes, type SearchAttributeTypes } from '../platform/workflow/search-attributes';
import { checkout } from './checkout';
import { dtm } from './dtm';
import { tip } from './tip';
import { transfer } from './transfer';

export const flows: readonly FlowDefinition[] = [transfer, checkout, tip, dtm];

/** Every search attribute a flow sets, for registering on the namespace. */
export const searchAttributes: SearchAttributeTypes = Object.assign({}, commonSearchAttributes, ...flows.map((f) => f.searchAttributes));

/** The workflow that runs a flow: a batch run holding it, or the flow's own workflow. */
export const runOfFlow = (flowId: string): string => flows.map((f) => f.runOf?.(flowId)).find(Boolean) ?? flowId;

/** The modules the workflow bundle is built from. */
export const workflowModules: readonly string[] = flows.map((f) => f.workflowsPath);
