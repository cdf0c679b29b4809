// Activity proxies for flows, one per domain task queue. Forward steps get deliberate timeouts: startToClose per
// attempt, and a scheduleToClose after which the saga gives up on a dead dependency and compensates; business
// rejections are non-retryable ApplicationFailures and never retried. Undo and confirm steps get a short retry policy
// per call; retry.ts repeats the call until it succeeds.
import { proxyActivities, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import type { StepTimeouts } from './types';

export interface StepProxies<A> {
  forward: ActivityInterfaceFor<A>;
  undo: ActivityInterfaceFor<A>;
}

export function stepProxies<A extends object>(taskQueue: string, t: StepTimeouts): StepProxies<A> {
  const forward: ActivityOptions = {
    taskQueue,
    startToCloseTimeout: t.stepStartToCloseMs,
    scheduleToCloseTimeout: t.stepScheduleToCloseMs,
    retry: { initialInterval: 200, backoffCoefficient: 2, maximumInterval: 5_000 },
  };
  const undo: ActivityOptions = {
    taskQueue,
    startToCloseTimeout: t.stepStartToCloseMs,
    retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 10_000, maximumAttempts: 5 },
  };
  return { forward: proxyActivities<A>(forward), undo: proxyActivities<A>(undo) };
}
