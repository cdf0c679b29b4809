// Coalesced activity calls for batch runs: the flows of one run that reach the same step on the same queue together go
// out as one activity call (whose items are still separate local transactions, see eachItem in ../activity.ts), and
// each flow gets its own item's outcome back: a value, or its own business rejection as a non-retryable
// ApplicationFailure, exactly as if it had called alone.
//
// Which requests share a call — an explicit rule, deterministic on replay. A call is sealed at the first condition
// check after its first request. The SDK checks conditions only once the workflow has run every continuation it can
// (the activation's microtasks are drained), so a call holds every request the events of one activation led to, however
// many `await`s each flow passes on its way to the step: adding an await on a step's path does not change which calls
// are scheduled. The check itself records nothing in history. (Runs recorded before this rule — no
// `coalesce-when-settled` marker — counted 16 microtask turns instead, and replay that way: `gather: 'microtasks'`.)
//
// The call runs outside every requester's cancellation scope; what a requester's cancellation does depends on the
// step's kind:
// - 'forward' (a compensable step): the requester stops waiting at once (its compensation, registered first, undoes a
//   late effect; the barrier makes it harmless);
// - 'pivot' (a step that cannot be undone): a request not yet sealed into a call leaves it (nothing ran). Once sent,
//   the call is cancelled only when every requester in it asked to be, with WAIT_CANCELLATION_COMPLETED (proxies.ts):
//   the server confirms that no attempt ran, or the call ends as it ends. A call whose outcome is unknown (an attempt
//   ran and failed, and the server stopped retrying because a cancel was requested) is sent again, never cancelled,
//   until every item is known — applied (the barrier makes a re-run a duplicate) or rejected. So one flow's cancel
//   never cancels another's pivot, and no pivot is ever reported "did not happen" while it may have;
// - 'undo' and 'settle' (compensations; recording the outcome): the requester always waits.
// With `watch`, one timer per call raises the stuck alarm for every requester in it (instead of a timer per step in
// retry.ts): a call still unanswered after `stuckAfterMs` reports stuck to each requester's onStuck, and clear when it
// is answered.
import { ApplicationFailure, CancellationScope, condition, isCancellation, log, patched, sleep } from '@temporalio/workflow';
import type { ItemResult } from '../activity';

/** The patch that moved batch runs from counting microtask turns to sealing calls at the first condition check. */
export const COALESCE_WHEN_SETTLED = 'coalesce-when-settled';

/** Runs recorded before COALESCE_WHEN_SETTLED waited this many microtask turns before sending. */
const LEGACY_GATHER_TURNS = 16;

export type StepKind = 'forward' | 'pivot' | 'undo' | 'settle';
export type Gathering = 'settled' | 'microtasks';

/** The grouping rule of this run: call once, before the run's first command (a patch marker in new runs). */
export const gatheringOfThisRun = (): Gathering => (patched(COALESCE_WHEN_SETTLED) ? 'settled' : 'microtasks');

export interface CoalescerOptions {
  kind: StepKind;
  gather: Gathering;
  maxItems?: number;
  watch?: { step: string; stuckAfterMs: number };
}

interface Entry<I, O> {
  item: I;
  cancelled: boolean;
  cancelError?: unknown;
  /** The call this entry is in once sent. */
  call?: Call<I, O>;
  onStuck?: (stuck: boolean) => void;
  resolve(value: O): void;
  reject(err: unknown): void;
}

interface Call<I, O> {
  entries: Entry<I, O>[];
  scope: CancellationScope;
  /** An earlier call with these items ended unknown: this one is never cancelled. */
  settling: boolean;
}

export class Coalescer<I, O> {
  private queue: Entry<I, O>[] = [];

  constructor(
    private readonly call: (items: I[]) => Promise<ItemResult<O>[]>,
    private readonly options: CoalescerOptions,
  ) {}

  request(item: I, { onStuck }: { onStuck?: (stuck: boolean) => void } = {}): Promise<O> {
    let entry!: Entry<I, O>;
    const answer = new Promise<O>((resolve, reject) => {
      entry = { item, cancelled: false, onStuck, resolve, reject };
    });
    this.enqueue(entry);
    const { kind } = this.options;
    if (kind === 'undo' || kind === 'settle') return answer;
    const requested = CancellationScope.current().cancelRequested;
    if (kind === 'forward') {
      answer.catch(() => undefined); // the race may be lost to the cancellation; the answer must not go unhandled
      return Promise.race([answer, requested]);
    }
    requested.catch((err) => this.cancelPivot(entry, err));
    return answer;
  }

  private cancelPivot(entry: Entry<I, O>, err: unknown) {
    entry.cancelled = true;
    entry.cancelError = err;
    const queued = this.queue.indexOf(entry);
    if (queued >= 0) {
      this.queue.splice(queued, 1); // not sent yet: nothing ran
      return entry.reject(err);
    }
    const call = entry.call;
    if (!call || call.settling) return;
    // The legacy rule cancelled the call for any requester (and sent the others again when nothing had run).
    if (this.options.gather === 'microtasks' || call.entries.every((e) => e.cancelled)) call.scope.cancel();
  }

  private enqueue(entry: Entry<I, O>) {
    this.queue.push(entry);
    if (this.queue.length >= (this.options.maxItems ?? 200)) this.send(this.takeQueue());
    else if (this.queue.length === 1) void (this.options.gather === 'settled' ? this.sealWhenSettled() : this.gatherMicrotasks());
  }

  private takeQueue(): Entry<I, O>[] {
    const batch = this.queue;
    this.queue = [];
    return batch;
  }

  private async sealWhenSettled() {
    const queue = this.queue;
    let batch: Entry<I, O>[] | undefined;
    await CancellationScope.nonCancellable(async () => {
      // Created from a continuation (never inside a signal or update handler), so that the next check of the
      // condition is one made after the activation's continuations have all run.
      await Promise.resolve();
      let checked = false;
      await condition(() => {
        if (this.queue !== queue) return true; // sent already (full)
        if (!checked) return !(checked = true); // the creation's own, eager check
        batch = this.takeQueue();
        return true;
      });
    });
    if (batch) this.send(batch);
  }

  private async gatherMicrotasks() {
    for (let i = 0; i < LEGACY_GATHER_TURNS; i++) await Promise.resolve();
    this.send(this.takeQueue());
  }

  private send(entries: Entry<I, O>[], settling = false) {
    if (!entries.length) return;
    void CancellationScope.nonCancellable(async () => {
      const call: Call<I, O> = { entries, scope: new CancellationScope(), settling };
      for (const e of entries) e.call = call;
      const answered = this.watch(entries);
      try {
        const results = await call.scope.run(() => this.call(entries.map((b) => b.item)));
        await answered();
        entries.forEach((e, k) => {
          const r = results[k] as Partial<{ ok: O; rejected: { type: string; message: string } }> | undefined;
          if (r?.rejected) e.reject(ApplicationFailure.create({ type: r.rejected.type, message: r.rejected.message, nonRetryable: true }));
          else e.resolve(r?.ok as O);
        });
      } catch (err) {
        await answered();
        await this.failed(call, err);
      }
    });
  }

  private async failed(call: Call<I, O>, err: unknown) {
    const { entries } = call;
    if (isCancellation(err)) {
      // The server confirmed that no attempt ran: the cancelled requesters are cancelled, the others go again.
      const again = entries.filter((e) => !e.cancelled);
      for (const e of entries) if (e.cancelled) e.reject(e.cancelError ?? err);
      for (const e of again) e.call = undefined;
      if (this.options.gather === 'settled') this.send(again);
      else again.forEach((e) => this.enqueue(e));
      return;
    }
    if (this.options.kind !== 'pivot' || !patched(PIVOT_SETTLED)) return entries.forEach((e) => e.reject(err));
    // An attempt ran and its outcome is lost: every item may or may not have been applied. Find out.
    call.settling = true;
    log.warn('coalesced pivot ended unknown; sending it again until every item is known', { items: entries.length, error: String(err) });
    await sleep(1_000);
    this.send(entries, true);
  }

  /** Starts the call's stuck alarm; returns what to call once the call is answered. */
  private watch(entries: Entry<I, O>[]): () => Promise<void> {
    const watch = this.options.watch;
    if (!watch) return async () => undefined;
    let answered = false;
    let stuck = false;
    const alarm = condition(() => answered, watch.stuckAfterMs).then((done) => {
      if (done) return;
      stuck = true;
      log.error('step keeps failing; still retrying', { step: watch.step, flows: entries.length, afterMs: watch.stuckAfterMs });
      for (const e of entries) e.onStuck?.(true);
    });
    return async () => {
      answered = true;
      await alarm;
      if (stuck) for (const e of entries) e.onStuck?.(false);
    };
  }
}

/** The patch after which a pivot whose outcome is unknown is run again (not reported as not having happened). */
export const PIVOT_SETTLED = 'pivot-outcome-settled';
