// The fault schedule of a chaos run: SIGKILL a worker of any unit (and start a replacement for that unit), SIGSTOP a
// worker for a while (its stale activity attempts land late), restart ONE MariaDB server while the other stays up
// (alternating A and B), restart both servers at once, stop EVERY worker of one domain for a while (alternating
// inventory, ledger, loyalty, orders, flows: the flows that need it pause, then resume), restart the Temporal dev
// server on the same SQLite file, restart the RabbitMQ node (relays and consumers reconnect), SIGKILL a domain worker
// while its store's outbox has a backlog (its relay dies mid-batch), fire cancels at transfers in their pivot while
// the ledger workers are killed (pivot-cancel.mjs), SIGKILL the API and start it again on its port (api-restart). The
// `dtm` plan (with --dtm) aims at the DTM coordinator: its branch callers (worker unit dtm) and the flows workers
// killed, the API and Temporal restarted, server A (the coordinator's store and bank a) restarted. Faults run one at a time, at least `gapMs` apart, spread over the load: fault i waits
// until the accepted flows reach its share of the target (or the load's time budget its share of time), so the last
// one lands near the end of the load and the system has to recover with work in flight.
/* global AbortSignal */
import { setTimeout as sleep } from 'node:timers/promises';
import { cancelInPivot } from './pivot-cancel.mjs';

export const PLANS = {
  quick: ['worker-kill', 'db-server-restart', 'relay-kill', 'domain-outage', 'broker-restart', 'worker-pause', 'pivot-cancel', 'db-server-restart', 'temporal-restart'],
  dtm: ['worker-kill:dtm', 'api-restart', 'worker-kill:flows', 'temporal-restart', 'worker-kill:dtm', 'db-server-restart:a', 'api-restart', 'worker-kill:flows'],
  ha: ['temporal-node-kill', 'api-kill', 'mariadb-kill', 'worker-kill', 'postgres-restart', 'api-kill', 'temporal-node-kill', 'mariadb-kill'],
  full: [
    'worker-kill', 'db-server-restart', 'relay-kill', 'worker-pause', 'domain-outage', 'broker-restart', 'temporal-restart', 'worker-kill',
    'db-server-restart', 'relay-kill', 'domain-outage', 'worker-kill', 'db-restart', 'broker-restart', 'worker-pause', 'temporal-restart',
    'pivot-cancel',
  ],
};

/** Which server a db-server-restart hits, and which unit a domain-outage empties, in turn. */
export const SERVER_ROTATION = ['a', 'b'];
export const OUTAGE_ROTATION = ['inventory', 'ledger', 'loyalty', 'orders', 'flows'];
export const FAULT_TYPES = ['worker-kill', 'worker-pause', 'db-server-restart', 'db-restart', 'domain-outage', 'temporal-restart', 'broker-restart', 'relay-kill', 'pivot-cancel', 'api-restart'];
/** Faults of the --ha run only (scripts/chaos/ha.mjs): processes die by SIGKILL and supervision brings them back. */
export const HA_FAULT_TYPES = ['temporal-node-kill', 'api-kill', 'mariadb-kill', 'postgres-restart'];

/** `--plan a,b:target,…` → the plan, checked. */
export function parsePlan(text) {
  const plan = text.split(',').map((x) => x.trim()).filter(Boolean);
  const known = [...FAULT_TYPES, ...HA_FAULT_TYPES];
  for (const p of plan) if (!known.includes(p.split(':')[0])) throw new Error(`--plan: unknown fault ${p} (faults: ${known.join(', ')}; the last ${HA_FAULT_TYPES.length} with --ha)`);
  return plan;
}

async function apiReady(base) {
  try {
    return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).ok;
  } catch {
    return false;
  }
}

export async function runFaults({ plan, stack, rec, load, target, budgetMs, gapMs, firstAfterMs, downMs, pauseMs, outageMs, isAborted = () => false }) {
  const loadStart = Date.now();
  let lastEnd = loadStart - gapMs + firstAfterMs;
  let servers = 0;
  let outages = 0;
  for (let i = 0; i < plan.length && !isAborted(); i++) {
    const share = (i + 1) / (plan.length + 0.5);
    const minFlows = Math.floor(target * share);
    const slotAt = loadStart + budgetMs * share;
    // Wait for the gap and this fault's share of the flows, but not past its share of the load's time budget (a slow
    // machine gets fewer flows, not a longer run).
    while (!isAborted() && (Date.now() - lastEnd < gapMs || (load.accepted < minFlows && Date.now() < slotAt))) await sleep(250);
    // `type` or `type:target` (a unit for worker-kill / worker-pause / domain-outage, a server for db-server-restart).
    const [type, given] = plan[i].split(':');
    const on =
      given ??
      (type === 'db-server-restart' || type === 'mariadb-kill' ? SERVER_ROTATION[servers++ % SERVER_ROTATION.length] : type === 'domain-outage' ? OUTAGE_ROTATION[outages++ % OUTAGE_ROTATION.length] : undefined);
    const before = load.terminalByType();
    const fault = rec.faultStarted(type, { n: i + 1, ...(on ? { target: on } : {}), acceptedFlows: load.accepted });
    let detail = {};
    try {
      if (type === 'worker-kill') detail = await stack.killWorker(on);
      else if (type === 'worker-pause') detail = await stack.pauseWorker(pauseMs, on);
      else if (type === 'db-server-restart') detail = await stack.restartServer(on, downMs);
      else if (type === 'domain-outage') detail = await stack.unitOutage(on, outageMs);
      else if (type === 'db-restart') detail = await stack.restartDb(downMs);
      else if (type === 'temporal-restart') detail = await stack.restartTemporal(downMs);
      else if (type === 'broker-restart') detail = await stack.restartBroker(downMs);
      else if (type === 'relay-kill') detail = await stack.killRelay(on);
      else if (type === 'api-restart') detail = await stack.restartApi(downMs);
      else if (type === 'pivot-cancel') detail = await cancelInPivot({ stack, load });
      else if (type === 'temporal-node-kill') detail = await stack.killTemporalNode();
      else if (type === 'api-kill') detail = await stack.killApi();
      else if (type === 'mariadb-kill') detail = await stack.killMariaDb(on);
      else if (type === 'postgres-restart') detail = await stack.restartPostgres(downMs);
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
    // How much finished while the fault lasted (a domain outage pauses only the flows that need that domain).
    const after = load.terminalByType();
    detail.finishedDuringFault = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
    rec.faultEnded(fault, detail);
    lastEnd = Date.now();
  }
}
