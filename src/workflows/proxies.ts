// Activity proxies for flows. Forward steps get deliberate timeouts: startToClose per attempt, and a scheduleToClose
// after which the saga gives up on a dead dependency and compensates; business rejections are never retried.
// Undo and confirm steps get a short retry policy per call; retry.ts repeats the call until it succeeds.
// `local: true` runs the same steps as local activities (in the worker that runs the workflow task, recorded as markers,
// no activity task round trips through the server) with the same timeouts and retry policies; the barrier keeps a
// local activity that ran but whose marker was lost (worker crash) exactly-once on its re-execution.
import { proxyActivities, proxyLocalActivities, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { businessErrorTypes } from '../shared/errors';
import type { StepTimeouts } from '../shared/flows';

export function flowActivities(t: StepTimeouts, { local = false }: { local?: boolean } = {}) {
  const forward: ActivityOptions & LocalActivityOptions = {
    startToCloseTimeout: t.stepStartToCloseMs,
    scheduleToCloseTimeout: t.stepScheduleToCloseMs,
    retry: { initialInterval: 200, backoffCoefficient: 2, maximumInterval: 5_000, nonRetryableErrorTypes: [...businessErrorTypes] },
  };
  const undo: ActivityOptions & LocalActivityOptions = {
    startToCloseTimeout: t.stepStartToCloseMs,
    retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 10_000, maximumAttempts: 5 },
  };
  if (local) return { forward: proxyLocalActivities<Activities>(forward), undo: proxyLocalActivities<Activities>(undo) };
  return { forward: proxyActivities<Activities>(forward), undo: proxyActivities<Activities>(undo) };
}

export { money } from '../shared/money';
