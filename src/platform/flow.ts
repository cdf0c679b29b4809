// The face every flow folder exports (src/workflows/<name>/index.ts): the module with its workflow functions (bundled for
// the flows worker), its search attributes, and the routes that start and read it. The flows registry derives the
// workflow bundle, the namespace's search attributes and the API's routes from these.
import type { AppDeps, Mount } from './http/deps';
import type { SearchAttributeTypes } from './workflow/search-attributes';

export interface FlowDefinition {
  name: string;
  /** Absolute path of the sandbox-safe module exporting the flow's workflow functions. */
  workflowsPath: string;
  searchAttributes: SearchAttributeTypes;
  routes(deps: AppDeps): Mount[];
  /**
   * The workflow that runs flow `flowId` when it is not the flow's own (a batch run holding it), for retention to ask
   * Temporal whether the flow still runs; undefined when the flow is its own workflow.
   */
  runOf?(flowId: string): string | undefined;
}
