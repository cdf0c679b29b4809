// The fault schedule of a chaos run: SIGKILL a worker (and start a replacement), SIGSTOP a worker for a while (its
// stale activity attempts land late), restart MariaDB on the same datadir, restart the Temporal dev server on the same
// SQLite file. Faults run one at a time, at least `gapMs` apart, spread over the load: fault i waits until the accepted
// flows reach its share of the target, so the last one lands near the end of the load and the system has to recover
// with work in flight.
/* global AbortSignal */
import { setTimeout as sleep } from 'node:timers/promises';

export const PLANS = {
  quick: ['worker-kill', 'db-restart', 'worker-pause', 'worker-kill', 'temporal-restart'],
  full: [
    'worker-kill', 'db-restart', 'worker-pause', 'worker-kill', 'temporal-restart', 'worker-kill',
    'worker-pause', 'worker-kill', 'db-restart', 'worker-kill', 'temporal-restart', 'worker-kill',
  ],
};

async function apiReady(base) {
  try {
    return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).ok;
  } catch {
    return false;
  }
}

export async function runFaults({ plan, stack, rec, load, target, gapMs, firstAfterMs, downMs, pauseMs, isAborted = () => false }) {
  let lastEnd = Date.now() - gapMs + firstAfterMs;
  for (let i = 0; i < plan.length && !isAborted(); i++) {
    const minFlows = Math.floor((target * (i + 1)) / (plan.length + 0.5));
    // Wait for the gap and this fault's share of the flows (but never forever: a stalled load is itself a finding).
    while (!isAborted() && (Date.now() - lastEnd < gapMs || (load.accepted < minFlows && Date.now() - lastEnd < gapMs * 6))) await sleep(250);
    const type = plan[i];
    const fault = rec.faultStarted(type, { n: i + 1, acceptedFlows: load.accepted });
    let detail = {};
    try {
      if (type === 'worker-kill') detail = await stack.killWorker();
      else if (type === 'worker-pause') detail = await stack.pauseWorker(pauseMs);
      else if (type === 'db-restart') detail = await stack.restartDb(downMs);
      else if (type === 'temporal-restart') detail = await stack.restartTemporal(downMs);
      else throw new Error(`unknown fault ${type}`);
      const deadline = Date.now() + 120_000;
      while (!(await apiReady(stack.base))) {
        if (Date.now() > deadline) throw new Error('the API did not report ready within 120 s of the fault');
        await sleep(250);
      }
    } catch (err) {
      rec.violation('fault-recovery', { type, error: err.message });
      detail.error = err.message;
    }
    rec.faultEnded(fault, detail);
    lastEnd = Date.now();
  }
}
