// Coalesced activity calls for batch runs: the flows of one run that reach the same step on the same queue in the same
// workflow activation go out as one activity call (whose items are still separate local transactions, see eachItem
// in ../activity.ts), and each flow gets its own item's outcome back: a value, or its own business rejection as a
// non-retryable ApplicationFailure, exactly as if it had called alone. A failure of the whole call (its time ran out)
// reaches every flow in it.
//
// Deterministic: requests are collected within one activation and sent after a fixed number of microtask turns (no
// timer, nothing recorded), so a replay groups them the same way. The call runs outside every requester's
// cancellation scope, so one flow's cancellation never cancels the others' call. What a requester's cancellation does
// is its `cancel` mode:
// - 'abandon' (forward steps): it stops waiting at once (the barrier makes a late effect harmless; its compensation,
//   registered first, undoes it);
// - 'unstarted' (a pivot): the call is cancelled with WAIT_CANCELLATION_COMPLETED semantics (proxies.ts): if the
//   server confirms no attempt ran, the cancelled requesters get the cancellation and the others are sent again in a
//   new call; if an attempt ran, its outcome stands for everyone (a pivot is never abandoned half-known);
// - 'none' (undo, bookkeeping): it always waits.
// With `watch`, one timer per call raises the stuck alarm for every requester in it (instead of a timer per step in
// retry.ts): a call still unanswered after `stuckAfterMs` reports stuck to each requester's onStuck, and clear when it
// is answered.
import { ApplicationFailure, CancellationScope, condition, isCancellation, log } from '@temporalio/workflow';
import type { ItemResult } from '../activity';

/** Microtask turns a coalescer waits before sending: enough for flows resumed by one activation to line up. */
const GATHER_TURNS = 16;

export type CancelMode = 'abandon' | 'unstarted' | 'none';

interface Entry<I, O> {
  item: I;
  cancel: CancelMode;
  cancelled: boolean;
  /** The call this entry is in once sent (its scope, to cancel an unstarted pivot). */
  call?: CancellationScope;
  cancelError?: unknown;
  onStuck?: (stuck: boolean) => void;
  resolve(value: O): void;
  reject(err: unknown): void;
}

export class Coalescer<I, O> {
  private queue: Entry<I, O>[] = [];

  constructor(
    private readonly call: (items: I[]) => Promise<ItemResult<O>[]>,
    private readonly options: { maxItems?: number; watch?: { step: string; stuckAfterMs: number } } = {},
  ) {}

  request(item: I, { cancel = 'abandon', onStuck }: { cancel?: CancelMode; onStuck?: (stuck: boolean) => void } = {}): Promise<O> {
    let entry!: Entry<I, O>;
    const answer = new Promise<O>((resolve, reject) => {
      entry = { item, cancel, cancelled: false, onStuck, resolve, reject };
    });
    this.enqueue(entry);
    if (cancel === 'none') return answer;
    const requested = CancellationScope.current().cancelRequested;
    if (cancel === 'abandon') {
      answer.catch(() => undefined); // the race may be lost to the cancellation; the answer must not go unhandled
      return Promise.race([answer, requested]);
    }
    requested.catch((err) => {
      entry.cancelled = true;
      entry.cancelError = err;
      if (this.queue.includes(entry)) {
        this.queue.splice(this.queue.indexOf(entry), 1); // not sent yet: nothing ran
        entry.reject(err);
      } else entry.call?.cancel();
    });
    return answer;
  }

  private enqueue(entry: Entry<I, O>) {
    this.queue.push(entry);
    if (this.queue.length === 1) void this.gatherThenSend();
    else if (this.queue.length >= (this.options.maxItems ?? 200)) this.send();
  }

  private async gatherThenSend() {
    for (let i = 0; i < GATHER_TURNS; i++) await Promise.resolve();
    this.send();
  }

  private send() {
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    void CancellationScope.nonCancellable(async () => {
      const scope = new CancellationScope();
      for (const e of batch) e.call = scope;
      const watch = this.options.watch;
      let answered = false;
      let stuck = false;
      const alarm = !watch
        ? Promise.resolve()
        : condition(() => answered, watch.stuckAfterMs).then((done) => {
            if (done) return;
            stuck = true;
            log.error('step keeps failing; still retrying', { step: watch.step, flows: batch.length, afterMs: watch.stuckAfterMs });
            for (const e of batch) e.onStuck?.(true);
          });
      const settle = async () => {
        answered = true;
        await alarm;
        if (stuck) for (const e of batch) e.onStuck?.(false);
      };
      try {
        const results = await scope.run(() => this.call(batch.map((b) => b.item)));
        await settle();
        batch.forEach((e, k) => {
          const r = results[k] as Partial<{ ok: O; rejected: { type: string; message: string } }> | undefined;
          if (r?.rejected) e.reject(ApplicationFailure.create({ type: r.rejected.type, message: r.rejected.message, nonRetryable: true }));
          else e.resolve(r?.ok as O);
        });
      } catch (err) {
        await settle();
        if (!isCancellation(err)) return batch.forEach((e) => e.reject(err));
        // Cancelled before any attempt ran: the cancelled ones are cancelled, the others go again.
        for (const e of batch) {
          if (e.cancelled) e.reject(e.cancelError ?? err);
          else {
            e.call = undefined;
            this.enqueue(e);
          }
        }
      }
    });
  }
}
