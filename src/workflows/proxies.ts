// Activity proxies for flows. Forward steps get deliberate timeouts: startToClose per attempt, and a scheduleToClose
// after which the saga gives up on a dead dependency and compensates; business rejections are never retried.
// Undo and confirm steps get a short retry policy per call; retry.ts repeats the call until it succeeds.
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { businessErrorTypes } from '../shared/errors';
import type { StepTimeouts } from '../shared/flows';

export function flowActivities(t: StepTimeouts) {
  const forward: ActivityOptions = {
    startToCloseTimeout: t.stepStartToCloseMs,
    scheduleToCloseTimeout: t.stepScheduleToCloseMs,
    retry: { initialInterval: 200, backoffCoefficient: 2, maximumInterval: 5_000, nonRetryableErrorTypes: [...businessErrorTypes] },
  };
  const undo: ActivityOptions = {
    startToCloseTimeout: t.stepStartToCloseMs,
    retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 10_000, maximumAttempts: 5 },
  };
  return { forward: proxyActivities<Activities>(forward), undo: proxyActivities<Activities>(undo) };
}

export { money } from '../shared/money';
