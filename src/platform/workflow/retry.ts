// Retries an undo or confirm step until it succeeds: compensations and TCC confirms/cancels may never be abandoned.
// Each call is an activity with a short retry policy of its own; between calls the workflow waits with a capped
// backoff, and after `stuckAfterMs` of failures it raises the alarm (status, log, metric) but keeps going.
import { CancellationScope, log, metricMeter, sleep } from '@temporalio/workflow';
import { describe, type Progress } from './progress';

export interface UntilDoneOptions {
  stuckAfterMs: number;
  /** Called once when the step has been failing for longer than stuckAfterMs, and once when it recovers. */
  onStuck?: (stuck: boolean) => void;
  maxBackoffMs?: number;
}

let stuckCounter: ReturnType<typeof metricMeter.createCounter> | undefined;

export async function untilDone<T>(
  progress: Progress,
  stepName: string,
  fn: () => Promise<T>,
  opts: UntilDoneOptions,
): Promise<T> {
  return CancellationScope.nonCancellable(async () => {
    const firstFailure = { at: 0 };
    let stuck = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await fn();
        if (stuck) opts.onStuck?.(false);
        return value;
      } catch (err) {
        const record = progress.step(stepName);
        record.retries = (record.retries ?? 0) + 1;
        record.error = describe(err);
        if (!firstFailure.at) firstFailure.at = Date.now();
        if (!stuck && Date.now() - firstFailure.at >= opts.stuckAfterMs) {
          stuck = true;
          stuckCounter ??= metricMeter.createCounter('sagaflow_compensation_stuck', 'steps', 'undo/confirm steps failing past the alarm time');
          stuckCounter.add(1, { step: stepName });
          log.error('step keeps failing; still retrying', { step: stepName, attempts: attempt, error: record.error });
          opts.onStuck?.(true);
        } else {
          log.warn('step failed; retrying', { step: stepName, attempt, error: record.error });
        }
        await sleep(Math.min(1000 * 2 ** Math.min(attempt, 10), opts.maxBackoffMs ?? 60_000));
      }
    }
  });
}
