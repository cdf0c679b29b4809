// What an activity knows of its place in a flow, and how it says no.
// - branch(): the flow id and the branch id (from the input, assigned by the workflow); together they key the barrier
//   rows. The flow id is the workflow id, unless the input names one: a flow that runs inside a batch run (many flows
//   in one workflow) names its own, so no two flows of a batch share barrier rows.
// - reject(): a business rejection, a non-retryable ApplicationFailure with a stable type from the domain's contract.
// - eachItem(): one activity call serving many flows' steps (a batch run's coalesced calls): every item is its own
//   local transaction with its own barrier rows; a business rejection comes back for its item alone, anything else
//   fails the call, which the server retries (the items already applied are barrier duplicates then).
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BarrierOutcome, BranchRef } from './barrier';
import { StepErrors } from './workflow/errors';

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

/**
 * A forward step whose undo ran first (the barrier says *hanging*) did nothing and must not look done: a non-retryable
 * StepAlreadyCompensated. Any other outcome is returned as the step's own.
 */
export function refuseHanging(outcome: BarrierOutcome, what: string, undoneBy: 'compensation' | 'cancel' = 'compensation'): { outcome: BarrierOutcome } {
  if (outcome === 'hanging') reject(StepErrors.StepAlreadyCompensated, `${what} arrived after its ${undoneBy}`);
  return { outcome };
}

/** One item's outcome in a call that serves many steps. */
export type ItemResult<T> = { ok: T } | { rejected: { type: string; message: string } };

export async function eachItem<I, T>(items: readonly I[], step: (item: I) => Promise<T>, concurrency = 8): Promise<ItemResult<T>[]> {
  const results: ItemResult<T>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        results[i] = { ok: (await step(items[i])) ?? (null as T) }; // JSON has no undefined
      } catch (err) {
        if (!(err instanceof ApplicationFailure && err.nonRetryable)) throw err;
        results[i] = { rejected: { type: err.type ?? 'Rejected', message: err.message } };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}
