// Starting, waiting for and asking flows on Temporal, the same way for every flow type.
// - start joins an existing run of the same business id (conflict policy USE_EXISTING) and never starts a second run
//   after one closed (reuse policy REJECT_DUPLICATE): a retried POST can never move money twice.
// - wait uses one long poll on the workflow's result with a deadline (no database polling), or, for a flow with an
//   update that returns when it ends, one update-with-start call that starts and waits at once.
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition, Workflow } from '@temporalio/common';
import { FLOWS_UNIT, taskQueueOf } from '../stores';
import type { AppDeps } from './deps';
import { unavailable } from './envelope';

/** Starts a workflow by type name (routes never import workflow code) on the flows task queue. */
export async function startFlow<W extends Workflow = Workflow>(
  deps: AppDeps,
  workflowType: string,
  options: Omit<WorkflowStartOptions<W>, 'taskQueue'> & { workflowId: string },
): Promise<{ handle: WorkflowHandle<W>; started: boolean }> {
  const { temporal, config } = deps;
  try {
    const handle = await temporal.workflow.start<W>(workflowType, {
      ...options,
      taskQueue: taskQueueOf(config.temporal.taskQueuePrefix, FLOWS_UNIT),
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    } as WorkflowStartOptions<W>);
    return { handle, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { handle: temporal.workflow.getHandle(options.workflowId) as WorkflowHandle<W>, started: false };
    }
    throw err;
  }
}

/**
 * Starts (or joins) a flow and waits up to `seconds` for an update that returns when the flow is terminal, in one call
 * (update-with-start). When the wait runs out the start is made sure of with a plain start (a no-op once it exists),
 * so a 202 always points at a flow that runs; a flow that already closed is read back through its result.
 */
export async function startWithUpdate<W extends Workflow, R, A extends unknown[]>(
  deps: AppDeps,
  workflowType: string,
  options: Omit<WorkflowStartOptions<W>, 'taskQueue'> & { workflowId: string },
  update: UpdateDefinition<R, A>,
  args: A,
  seconds: number,
): Promise<{ started: boolean; result: R | undefined }> {
  const { temporal, config } = deps;
  const operation = new WithStartWorkflowOperation<W>(workflowType, {
    ...options,
    taskQueue: taskQueueOf(config.temporal.taskQueuePrefix, FLOWS_UNIT),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  } as WorkflowStartOptions<W> & { workflowIdConflictPolicy: 'USE_EXISTING' });
  try {
    const result = await waitWithin(deps, seconds, () => temporal.workflow.executeUpdateWithStart(update, { args, startWorkflowOperation: operation }));
    if (result === undefined) await startFlow(deps, workflowType, options);
    return { started: true, result };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { started: false, result: await waitForResult<R>(deps, temporal.workflow.getHandle(options.workflowId), seconds) };
  }
}

/** The flow's result if it finishes within `seconds` (and before the process starts draining), else undefined. */
export function waitForResult<R>(deps: AppDeps, handle: WorkflowHandle, seconds: number): Promise<R | undefined> {
  return waitWithin(deps, seconds, () => handle.result() as Promise<R>);
}

/**
 * What `call` (a long poll: a run's result, an update that returns when a flow ends) answers within `seconds` and
 * before the process starts draining; undefined when it does not, or when the flow ended in a way its state tells
 * better (failed, cancelled, an update refused or overtaken by the end of the run).
 */
export async function waitWithin<R>(deps: AppDeps, seconds: number, call: () => Promise<R>): Promise<R | undefined> {
  if (seconds <= 0 || deps.draining?.aborted) return undefined;
  const deadline = Date.now() + seconds * 1000;
  const { connection } = deps.temporal;
  try {
    const wait = () => connection.withDeadline(deadline, call);
    return await (deps.draining ? connection.withAbortSignal(deps.draining, wait) : wait());
  } catch (err) {
    if (deps.draining?.aborted) return undefined; // draining: answer 202 with Location now, the flow goes on
    if (Date.now() >= deadline - 50) return undefined;
    const name = (err as Error)?.name;
    if (name === 'WorkflowFailedError' || name === 'WorkflowUpdateFailedError' || name === 'WorkflowNotFoundError') return undefined;
    throw err;
  }
}

/**
 * Asks a flow for its progress; undefined when the flow does not exist (yet, or any more) or cannot answer. A run
 * that holds many flows (a batch) is asked with `args` and its result read through `pick`.
 */
export async function askProgress<T, A extends unknown[] = []>(
  deps: AppDeps,
  workflowId: string,
  query: QueryDefinition<T, A>,
  { closed, hasRow, args, pick }: { closed: boolean; hasRow: boolean; args?: A; pick?: (result: any) => T | undefined },
): Promise<T | undefined> {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  const deadline = Date.now() + 3_000;
  try {
    // A closed flow's result is its final progress and needs no worker; a running one answers the query.
    if (closed) {
      const result = await deps.temporal.connection.withDeadline(deadline, () => handle.result());
      return pick ? pick(result) : (result as T);
    }
    return await deps.temporal.connection.withDeadline(deadline, () => handle.query(query, ...((args ?? []) as A)));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    if ((err as Error)?.name === 'WorkflowFailedError' || (err as Error)?.name === 'QueryNotRegisteredError') return undefined;
    if (hasRow) return undefined; // the database row still answers; only the steps are missing for now
    throw unavailable('Temporal');
  }
}
