// Activity proxies for flows, one set per domain task queue, one flavour per kind of step:
// - forward (compensable steps and tries): startToClose per attempt, and a scheduleToClose after which the saga gives
//   up on a dead dependency and compensates;
// - pivot: a step past which undo cannot be guaranteed; retried until its outcome is known (no scheduleToClose, no
//   attempt limit): it either happened or was rejected. A cancellation waits for the server to confirm it: granted
//   while no attempt runs (the step did not happen, the steps before it are undone); an attempt already running ends
//   as it ends, and a success stands (it was never abandoned half-known, which would undo a debit whose credit landed);
// - undo (compensations, TCC cancels, XA rollbacks): take back what a forward step did; retried by the server until
//   they succeed, with a capped interval (retry.ts watches the clock and raises the alarm);
// - settle (work that carries the flow forward once it is decided: TCC confirms, XA COMMIT, the merchant's credit,
//   points, recording the outcome): the same policy as undo — never abandoned — but named for what it does.
// Business rejections are non-retryable ApplicationFailures (reject()) and are never retried by any of them.
import { ActivityCancellationType, patched, proxyActivities, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import { UNDO_RETRIED_BY_SERVER } from './retry';
import type { StepTimeouts } from './types';

export interface StepProxies<A> {
  forward: ActivityInterfaceFor<A>;
  pivot: ActivityInterfaceFor<A>;
  undo: ActivityInterfaceFor<A>;
  settle: ActivityInterfaceFor<A>;
}

export function stepProxies<A extends object>(taskQueue: string, t: StepTimeouts): StepProxies<A> {
  const maximumInterval = t.undoMaxIntervalMs ?? 30_000;
  const forward: ActivityOptions = {
    taskQueue,
    startToCloseTimeout: t.stepStartToCloseMs,
    scheduleToCloseTimeout: t.stepScheduleToCloseMs,
    retry: { initialInterval: 200, backoffCoefficient: 2, maximumInterval: 5_000 },
  };
  const pivot: ActivityOptions = {
    taskQueue,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    startToCloseTimeout: t.stepStartToCloseMs,
    retry: { initialInterval: Math.min(200, maximumInterval), backoffCoefficient: 2, maximumInterval },
  };
  // Runs recorded before the patch retried undo (and settle) calls in workflow code around five attempts each.
  const undo: ActivityOptions = patched(UNDO_RETRIED_BY_SERVER)
    ? { taskQueue, startToCloseTimeout: t.stepStartToCloseMs, retry: { initialInterval: Math.min(500, maximumInterval), backoffCoefficient: 2, maximumInterval } }
    : { taskQueue, startToCloseTimeout: t.stepStartToCloseMs, retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 10_000, maximumAttempts: 5 } };
  return { forward: proxyActivities<A>(forward), pivot: proxyActivities<A>(pivot), undo: proxyActivities<A>(undo), settle: proxyActivities<A>(undo) };
}
