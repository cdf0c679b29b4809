// Fault `pivot-cancel`: cancel requests fired at transfers in their pivot while workers are killed. SIGKILLs a worker
// of every ledger unit (replacements start at once), so credit attempts die mid-flight with their outcome unknown, and
// at the same moment fires a cancel at each running saga transfer (the latest ones; many are in their pivot). Each such transfer must end COMPLETED, or COMPENSATED only when its credit
// never ran: invariants/no-double-pay.mjs checks that none is both credited and refunded. Cancelled flows are marked
// (`cancelRequested`) so the audit accepts their `Cancelled` compensation.
import { setTimeout as sleep } from 'node:timers/promises';

export async function cancelInPivot({ stack, load, max = 24 }) {
  // Every running saga transfer is a target: at a chaos run's load most are in or next to their pivot, and a GET
  // first would let them finish. Those still before it are undone (Cancelled); those in it must complete.
  const running = [...load.flows.values()].filter((f) => f.type === 'transfer' && !load.isTerminal(f) && (f.body?.consistency ?? 'saga') === 'saga');
  const targets = running.slice(-max);
  const ledgerUnits = [...new Set(stack.workers.map((w) => w.unit).filter((u) => u.startsWith('ledger')))];
  const kills = ledgerUnits.map((u) => stack.killWorker(u));
  const cancels = targets.map(async (f) => {
    f.cancelRequested = true;
    await sleep(Math.floor(Math.random() * 300));
    const r = await load.api.request('POST', `/v1/transfers/${f.id}/cancel`, { route: 'POST /v1/transfers/{id}/cancel' });
    return r.status;
  });
  const [answers, killed] = await Promise.all([Promise.all(cancels), Promise.all(kills)]);
  return { target: ledgerUnits.join(','), cancelled: targets.map((f) => f.id), answers, killed: killed.map((k) => k.killed).join(',') };
}
