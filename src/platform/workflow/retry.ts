// Runs an undo or confirm step until it succeeds: compensations and TCC confirms/cancels may never be abandoned.
//
// The retrying happens on the Temporal server: the step's activity has a retry policy with no attempt limit and a
// capped interval (proxies.ts), and a policy retrying on the server adds no history events however often an attempt
// fails. The workflow only watches the clock: one timer of `stuckAfterMs`; when it fires before the step succeeded it
// raises the alarm (status via onStuck, the FlowStatus search attribute, an error log and the
// sagaflow_compensation_stuck metric) and keeps waiting. A step failing for days leaves the history a few events
// long, so Temporal never terminates the run for its size (which would skip the compensation).
//
// Only a failure the server does not retry reaches the workflow (a non-retryable error, or an older run's limited
// policy running out); that rare case is retried here after a capped backoff, one activity and one timer per round.
//
// Runs recorded before this change retried every call in workflow code (a short policy per call, a loop around it);
// they replay that path, guarded by the `undo-retried-by-server` patch.
import { CancellationScope, condition, log, metricMeter, patched, sleep } from '@temporalio/workflow';
import { describe, type Progress } from './progress';

export const UNDO_RETRIED_BY_SERVER = 'undo-retried-by-server';

export interface UntilDoneOptions {
  stuckAfterMs: number;
  /** Called once when the step has been failing for longer than stuckAfterMs, and once when it recovers. */
  onStuck?: (stuck: boolean) => void;
  /** Backoff cap between rounds of the rare in-workflow retry. */
  maxBackoffMs?: number;
  /**
   * false: no alarm timer of this step's own — the call it makes is watched elsewhere (a batch run's coalesced call
   * watches all its requesters with one timer and reports to each through `onStuck`).
   */
  watch?: boolean;
}

let stuckCounter: ReturnType<typeof metricMeter.createCounter> | undefined;

function raiseAlarm(progress: Progress, stepName: string, opts: UntilDoneOptions, detail: Record<string, unknown>) {
  stuckCounter ??= metricMeter.createCounter('sagaflow_compensation_stuck', 'steps', 'undo/confirm steps failing past the alarm time');
  stuckCounter.add(1, { step: stepName });
  log.error('step keeps failing; still retrying', { step: stepName, ...detail, error: progress.step(stepName).error });
  opts.onStuck?.(true);
}

export async function untilDone<T>(progress: Progress, stepName: string, fn: () => Promise<T>, opts: UntilDoneOptions): Promise<T> {
  if (!patched(UNDO_RETRIED_BY_SERVER)) return untilDoneInWorkflow(progress, stepName, fn, opts);
  return CancellationScope.nonCancellable(async () => {
    let settled = false;
    let stuck = false;
    const watch = (opts.watch === false ? Promise.resolve(true) : condition(() => settled, opts.stuckAfterMs)).then((finished) => {
      if (finished) return;
      stuck = true;
      progress.step(stepName).error ??= `still failing after ${opts.stuckAfterMs} ms (retried by the server)`;
      raiseAlarm(progress, stepName, opts, { afterMs: opts.stuckAfterMs });
    });
    try {
      for (let round = 1; ; round++) {
        try {
          return await fn();
        } catch (err) {
          const record = progress.step(stepName);
          record.retries = (record.retries ?? 0) + 1;
          record.error = describe(err);
          log.warn('step failed past its retry policy; retrying', { step: stepName, round, error: record.error });
          await sleep(Math.min(1000 * 2 ** Math.min(round, 12), opts.maxBackoffMs ?? 3_600_000));
        }
      }
    } finally {
      settled = true;
      await watch;
      if (stuck) opts.onStuck?.(false);
    }
  });
}

/** The pre-patch path: a loop in workflow code around a short per-call policy (replayed by older runs only). */
async function untilDoneInWorkflow<T>(progress: Progress, stepName: string, fn: () => Promise<T>, opts: UntilDoneOptions): Promise<T> {
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
          raiseAlarm(progress, stepName, opts, { attempts: attempt });
        } else {
          log.warn('step failed; retrying', { step: stepName, attempt, error: record.error });
        }
        await sleep(Math.min(1000 * 2 ** Math.min(attempt, 10), opts.maxBackoffMs ?? 60_000));
      }
    }
  });
}
