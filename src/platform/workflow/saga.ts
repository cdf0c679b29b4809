// The saga helper: a compensation stack that is correct where the usual examples are not.
//
// Every step has a kind, and the kind decides what a failure does:
// - compensable (step(), parallel()): undone by its compensation when a later step fails; its forward activity gives
//   up after its schedule-to-close budget (the flow then compensates);
// - pivot (pivot()): the step past which undo cannot be guaranteed (a credit the owner may spend at once). It has no
//   compensation and is driven to a definite outcome — run it with the `pivot` proxies (no time limit): a business
//   rejection, or a cancellation the server granted before any attempt ran, means it did not happen (the earlier steps
//   are compensated); success commits the saga, and from there the flow only goes forward. Any other failure (an
//   attempt ran, then its reply was lost and a cancel request stopped the server's retries) leaves the outcome unknown:
//   the pivot runs again in a non-cancellable scope until it succeeds or is rejected (the barrier makes a re-run of an
//   applied step a duplicate). A cancel request never turns an unknown pivot into an undo;
// - always (always()): after the pivot, or bookkeeping that must happen whatever came before; never cancelled,
//   retried until it succeeds, never undone.
// - A step's compensation is registered *before* the step runs: a step that committed and then timed out is undone
//   (the barrier turns "undo something that never happened" into a no-op).
// - Parallel groups register every branch's compensation first, then run the branches concurrently.
// - compensate() runs the stack in reverse (groups concurrently) inside a non-cancellable scope, so it also runs after
//   the workflow is cancelled, and each compensation is retried until it succeeds (see retry.ts); nothing is swallowed.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, log, patched, sleep } from '@temporalio/workflow';
import { PIVOT_SETTLED } from './coalesce';
import { Progress } from './progress';
import { untilDone, type UntilDoneOptions } from './retry';

export interface SagaStep<T = unknown> {
  name: string;
  run: () => Promise<T>;
  /** The inverse of `run`; omitted for steps with nothing to undo. */
  compensate?: () => Promise<unknown>;
}

interface Compensation {
  name: string;
  fn: () => Promise<unknown>;
}

export class Saga {
  private readonly stack: Compensation[][] = [];

  constructor(
    readonly progress: Progress,
    private readonly undoOptions: UntilDoneOptions,
  ) {}

  /** Runs one step after registering its compensation. */
  async step<T>(name: string, run: () => Promise<T>, compensate?: () => Promise<unknown>): Promise<T> {
    const [value] = await this.parallel([{ name, run, compensate }]);
    return value as T;
  }

  /**
   * Runs steps concurrently, each with its compensation registered first. Waits for every branch to settle, then
   * rethrows the first failure, so that compensation starts only when no branch is still in flight.
   */
  async parallel<T>(steps: SagaStep<T>[]): Promise<T[]> {
    const group: Compensation[] = [];
    for (const s of steps) {
      this.progress.step(s.name);
      if (s.compensate) group.push({ name: s.name, fn: s.compensate });
    }
    if (group.length) this.stack.push(group);
    const settled = await Promise.allSettled(steps.map((s) => this.track(s)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
  }

  private async track<T>(s: SagaStep<T>): Promise<T> {
    this.progress.mark(s.name, 'running');
    try {
      const value = await s.run();
      this.progress.mark(s.name, 'done');
      return value;
    } catch (err) {
      this.progress.mark(s.name, 'failed', err);
      throw err;
    }
  }

  /** True when some compensation is registered (some step may have taken effect). */
  get hasCompensations(): boolean {
    return this.stack.length > 0;
  }

  /** Undoes every registered step, newest group first. Never gives up; safe to call after cancellation. */
  async compensate(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      while (this.stack.length) {
        const group = this.stack.pop()!;
        await Promise.all(
          group.map(async (c) => {
            this.progress.mark(c.name, 'compensating');
            await untilDone(this.progress, c.name, c.fn, this.undoOptions);
            this.progress.mark(c.name, 'compensated');
          }),
        );
      }
    });
  }

  /**
   * Runs the pivot: no compensation; `run` must retry until the outcome is known (the `pivot` proxies). On success the
   * saga is committed (nothing before it will be undone); a rejection (or a cancellation granted before any attempt
   * ran) propagates, and the caller compensates the steps before it — the pivot itself did not happen. An unknown
   * outcome is settled first (see the header).
   */
  async pivot<T>(name: string, run: () => Promise<T>): Promise<T> {
    const value = await this.step(name, () => untilKnown(name, run));
    this.commit();
    return value;
  }

  /** Runs a step that must happen whatever came before (bookkeeping after compensation): never cancelled, retried
   * until it succeeds. */
  async always<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.progress.mark(name, 'running');
    const value = await untilDone(this.progress, name, fn, this.undoOptions);
    this.progress.mark(name, 'done');
    return value;
  }

  /** Forgets the registered compensations: the flow has passed its point of no return. */
  commit(): void {
    this.stack.length = 0;
  }
}

/** A business rejection: the step refused, and nothing of it happened. */
function isRejection(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.nonRetryable === true;
}

/** Runs a pivot until its outcome is known: success, a rejection, or a cancellation granted before it ran. */
async function untilKnown<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    // Runs recorded before the patch treated every failure as "did not happen".
    if (isRejection(err) || isCancellation(err) || !patched(PIVOT_SETTLED)) throw err;
    log.warn('pivot outcome unknown; running it again, not cancellable, until it is known', { step: name, error: String(err) });
    return CancellationScope.nonCancellable(async () => {
      for (let round = 1; ; round++) {
        try {
          return await run(); // the pivot proxies retry on the server: a failure here is rare (a non-retryable error)
        } catch (again) {
          if (isRejection(again)) throw again;
          await sleep(Math.min(1_000 * 2 ** Math.min(round, 10), 60_000));
        }
      }
    });
  }
}
