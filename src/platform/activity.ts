// What an activity knows of its place in a flow, and how it says no.
// - branch(): the flow id and the branch id (from the input, assigned by the workflow); together they key the barrier
//   rows. The flow id is the workflow id, unless the input names one: a flow that runs inside a batch run (many flows
//   in one workflow) names its own, so no two flows of a batch share barrier rows.
// - reject(): a business rejection, a non-retryable ApplicationFailure with a stable type from the domain's contract.
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BranchRef } from './barrier';

export function branch(branchId: string, ownFlowId?: string): BranchRef {
  const flowId = ownFlowId ?? activityInfo().workflowExecution?.workflowId;
  if (!flowId) throw new Error('barrier-guarded activities run only inside a workflow');
  return { flowId, branchId };
}

export interface Branch {
  branchId: string;
  /** The flow this branch belongs to, when it is not the workflow that runs it (a batch member). */
  flowId?: string;
}

export function reject(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}
