// What an activity knows of its place in a flow: the workflow id (from Temporal) and the branch id (from the input,
// assigned by the workflow). Together they key the barrier rows.
import { activityInfo } from '@temporalio/activity';
import type { BranchRef } from './barrier';

export function branch(branchId: string): BranchRef {
  const flowId = activityInfo().workflowExecution?.workflowId;
  if (!flowId) throw new Error('barrier-guarded activities run only inside a workflow');
  return { flowId, branchId };
}

export interface Branch {
  branchId: string;
}
