// Saga: the actions in order (or concurrently, after their predecessors in custom_data's `orders`); on a failed
// action, every branch whose action was started — the failed one included — is compensated in reverse (a branch after
// every branch that depended on it), each compensation retried until it succeeds. A timeout-to-fail, when the saga
// asks for one, bounds the forward calls.
import { CancellationScope } from '@temporalio/workflow';
import { stepBranchId } from '../../activities/dtm/contract';
import type { Processor } from './processor';
import type { Transaction } from './transaction';

/** Each step's predecessors: the previous step (sequential), or custom_data's `orders` (concurrent; none by default). */
export function predecessorsOf(tx: Transaction): number[][] {
  const n = tx.body.steps.length;
  const custom = parseCustom(tx.body.customData);
  const concurrent = tx.body.concurrent || custom.concurrent === true;
  if (!concurrent) return Array.from({ length: n }, (_, i) => (i > 0 ? [i - 1] : []));
  const orders = (custom.orders ?? {}) as Record<string, unknown>;
  return Array.from({ length: n }, (_, i) => {
    const pre = orders[String(i)];
    return Array.isArray(pre) ? pre.map(Number).filter((j) => Number.isInteger(j) && j >= 0 && j < n && j !== i) : [];
  });
}

export function parseCustom(customData: string): Record<string, unknown> {
  if (!customData) return {};
  try {
    const v = JSON.parse(customData);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

/** Runs `run(i)` for every index once all of `after(i)` finished, as many at once as the graph allows. */
async function inGraph(indexes: number[], after: (i: number) => number[], run: (i: number) => Promise<boolean>): Promise<void> {
  const done = new Set<number>();
  const running = new Map<number, Promise<number>>();
  let stop = false;
  while (!stop && (done.size < indexes.length || running.size)) {
    for (const i of indexes) {
      if (!done.has(i) && !running.has(i) && after(i).every((j) => done.has(j) || !indexes.includes(j))) {
        running.set(i, run(i).then((ok) => ((stop ||= !ok), i)));
      }
    }
    if (!running.size) break;
    const finished = await Promise.race(running.values());
    running.delete(finished);
    done.add(finished);
  }
  await Promise.all(running.values());
}

export const saga: Processor = {
  declare(tx) {
    tx.body.steps.forEach((s, i) => {
      tx.addBranch(stepBranchId(i), 'compensate', s.compensate ?? '');
      tx.addBranch(stepBranchId(i), 'action', s.action ?? '');
    });
  },

  async expire() {
    // A saga is submitted at once: it is never prepared.
  },

  async process(tx) {
    const pre = predecessorsOf(tx);
    const all = pre.map((_, i) => i);
    const started = new Set<number>();
    const timeout = tx.timeoutToFailMs();
    const deadlineMs = timeout === undefined ? undefined : Date.parse(tx.createTime) + timeout;
    let failure: string | undefined;
    const forward = new CancellationScope();
    await forward.run(() =>
      inGraph(all, (i) => pre[i], async (i) => {
        if (failure !== undefined) return false;
        started.add(i);
        const step = tx.body.steps[i];
        const r = await tx.call({ branch_id: stepBranchId(i), op: 'action', url: step.action ?? '' }, tx.body.payloads[i] ?? '', { failureFinal: true, deadlineMs, limited: true });
        if (r.result === 'SUCCESS') return true;
        failure ??= r.message ?? `action ${stepBranchId(i)} failed`;
        forward.cancel(); // actions still running are abandoned; they are compensated below, the barrier refuses a late one
        return false;
      }),
    );
    if (failure === undefined) return tx.setStatus('succeed');
    tx.setStatus('aborting', failure);
    // Reverse graph: a branch is compensated once every started branch that came after it was.
    const after = (i: number) => all.filter((j) => pre[j].includes(i));
    await CancellationScope.nonCancellable(() =>
      inGraph([...started], after, async (i) => {
        await tx.call({ branch_id: stepBranchId(i), op: 'compensate', url: tx.body.steps[i].compensate ?? '' }, tx.body.payloads[i] ?? '', { failureFinal: false });
        return true;
      }),
    );
    tx.setStatus('failed');
  },
};
