// Starting, waiting for and asking flows on Temporal, the same way for every flow type.
// - start joins an existing run of the same business id (conflict policy USE_EXISTING) and never starts a second run
//   after one closed (reuse policy REJECT_DUPLICATE): a retried POST can never move money twice.
// - wait uses one long poll on the workflow's result with a deadline (no database polling).
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { QueryDefinition, Workflow } from '@temporalio/common';
import type { Config } from '../../config';
import { taskQueueOf } from '../stores';
import type { StepTimeouts, Topology } from '../workflow/types';
import type { AppDeps } from './deps';
import { unavailable } from './envelope';

/** The task queue every workflow runs on; domain steps run on their domains' queues. */
export const FLOWS_UNIT = 'flows';

export function stepTimeouts(config: Config): StepTimeouts {
  return {
    stepStartToCloseMs: config.flows.stepStartToCloseMs,
    stepScheduleToCloseMs: config.flows.stepScheduleToCloseMs,
    compensationStuckAfterMs: config.flows.compensationStuckAfterMs,
  };
}

export function topologyOf({ config, stores }: Pick<AppDeps, 'config' | 'stores'>): Topology {
  return { queuePrefix: config.temporal.taskQueuePrefix, ledgerShards: stores.of('ledger').length };
}

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

/** The flow's result if it finishes within `seconds` (and before the process starts draining), else undefined. */
export async function waitForResult<R>(deps: AppDeps, handle: WorkflowHandle, seconds: number): Promise<R | undefined> {
  if (seconds <= 0 || deps.draining?.aborted) return undefined;
  const deadline = Date.now() + seconds * 1000;
  const { connection } = deps.temporal;
  try {
    const wait = () => connection.withDeadline(deadline, () => handle.result());
    return (await (deps.draining ? connection.withAbortSignal(deps.draining, wait) : wait())) as R;
  } catch (err) {
    if (deps.draining?.aborted) return undefined; // draining: answer 202 with Location now, the flow goes on
    if (Date.now() >= deadline - 50) return undefined;
    if ((err as Error)?.name === 'WorkflowFailedError') return undefined; // cancelled or failed: read its state instead
    throw err;
  }
}

/** Asks a flow for its progress; undefined when the flow does not exist (yet, or any more) or cannot answer. */
export async function askProgress<T>(
  deps: AppDeps,
  workflowId: string,
  query: QueryDefinition<T>,
  { closed, hasRow }: { closed: boolean; hasRow: boolean },
): Promise<T | undefined> {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  const deadline = Date.now() + 3_000;
  try {
    // A closed flow's result is its final progress and needs no worker; a running one answers the query.
    if (closed) return (await deps.temporal.connection.withDeadline(deadline, () => handle.result())) as T;
    return await deps.temporal.connection.withDeadline(deadline, () => handle.query(query));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    if ((err as Error)?.name === 'WorkflowFailedError' || (err as Error)?.name === 'QueryNotRegisteredError') return undefined;
    if (hasRow) return undefined; // the database row still answers; only the steps are missing for now
    throw unavailable('Temporal');
  }
}
