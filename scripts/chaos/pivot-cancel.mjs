// Fault `pivot-cancel`: cancel requests fired at transfers in their pivot while workers are killed. Picks running saga
// transfers whose phase is `debited` (their credit — the pivot — is scheduled or in flight), fires a cancel at each
// and, at the same moment, SIGKILLs a worker of each ledger shard (replacements start at once), so credit attempts die
// mid-flight with their outcome unknown. Each such transfer must end COMPLETED, or COMPENSATED only when its credit
// never ran: invariants/no-double-pay.mjs checks that none is both credited and refunded. Cancelled flows are marked
// (`cancelRequested`) so the audit accepts their `Cancelled` compensation.
import { setTimeout as sleep } from 'node:timers/promises';

export async function cancelInPivot({ stack, load, max = 12 }) {
  const running = [...load.flows.values()].filter((f) => f.type === 'transfer' && !load.isTerminal(f) && (f.body?.consistency ?? 'saga') === 'saga');
  const inPivot = [];
  for (const f of running.slice(-80)) {
    if (inPivot.length >= max) break;
    const r = await load.api.request('GET', `/v1/transfers/${f.id}`, { route: 'GET /v1/transfers/{id}' });
    if (r.body?.data?.phase === 'debited') inPivot.push(f);
  }
  const ledgerUnits = [...new Set(stack.workers.map((w) => w.unit).filter((u) => u.startsWith('ledger')))];
  const cancels = inPivot.map(async (f) => {
    f.cancelRequested = true;
    await sleep(Math.floor(Math.random() * 200));
    const r = await load.api.request('POST', `/v1/transfers/${f.id}/cancel`, { route: 'POST /v1/transfers/{id}/cancel' });
    return r.status;
  });
  const kills = ledgerUnits.map((u) => stack.killWorker(u));
  const [statuses, killed] = await Promise.all([Promise.all(cancels), Promise.all(kills)]);
  return { cancelled: inPivot.map((f) => f.id), answers: statuses, killed };
}
