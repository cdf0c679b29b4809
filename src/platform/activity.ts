// What an activity knows of its place in a flow, and how it says no.
// - branch(): the workflow id (from Temporal) and the branch id (from the input, assigned by the workflow); together
//   they key the barrier rows.
// - reject(): a business rejection, a non-retryable ApplicationFailure with a stable type from the domain's contract.
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BranchRef } from './barrier';

export function branch(branchId: string): BranchRef {
  const flowId = activityInfo().workflowExecution?.workflowId;
  if (!flowId) throw new Error('barrier-guarded activities run only inside a workflow');
  return { flowId, branchId };
}

export interface Branch {
  branchId: string;
}

export function reject(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}
