// The XA recovery job, in every worker that serves a store whose domain runs XA branches (the ledger's shards): it
// lists the prepared XA transactions of its server (XA RECOVER), and resolves each one seen prepared for longer than
// XA_RECOVERY_AFTER_MS by its flow's recorded decision:
// - the flow (the xid's gtrid is its workflow id) answers `xa-decision` for the branch (the bqual): commit → XA COMMIT,
//   rollback → XA ROLLBACK; undecided (or a branch it does not know) while it runs → left to the flow;
// - the flow is closed without a commit decision, or Temporal does not know it → XA ROLLBACK (presumed abort);
// - Temporal or the flows worker does not answer → left for the next round (when unsure, wait).
// Several jobs may resolve the same xid at once (one per ledger worker, and the flow itself): commit and rollback are
// idempotent. A prepared branch holds its row locks, so after worker crashes and database restarts this job is what
// guarantees none is left holding them.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from './logger';
import type { OpenStore } from './stores';
import { xaDecisionQuery, type XaDecision } from './workflow/xa';
import { commitBranch, connect, recoverXids, rollbackBranch, type Xid } from './xa';

export type Resolution = 'commit' | 'rollback' | 'wait';

/** What to do with a prepared branch, asked of Temporal. */
export type Decider = (xid: Xid) => Promise<Resolution>;

export function temporalDecider(client: Client): Decider {
  return async ({ gtrid, bqual }) => {
    const handle = client.workflow.getHandle(gtrid);
    let running: boolean;
    try {
      running = (await handle.describe()).status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'rollback'; // presumed abort
      return 'wait';
    }
    let decision: XaDecision;
    try {
      decision = await handle.query(xaDecisionQuery, bqual);
    } catch {
      return 'wait';
    }
    if (decision === 'commit' || decision === 'rollback') return decision;
    return running ? 'wait' : 'rollback';
  };
}

export interface RecoveryRound {
  prepared: number;
  committed: number;
  rolledBack: number;
  waiting: number;
}

/** One round over a server: resolves the branches first seen more than `afterMs` ago (`seen` remembers when). */
export async function recoverPrepared(url: string, decide: Decider, seen: Map<string, number>, afterMs: number, now = Date.now()): Promise<RecoveryRound> {
  const conn = await connect(url);
  let xids: Xid[];
  try {
    xids = await recoverXids(conn);
  } finally {
    conn.destroy();
  }
  const round: RecoveryRound = { prepared: xids.length, committed: 0, rolledBack: 0, waiting: 0 };
  const keys = new Set(xids.map((x) => `${x.gtrid},${x.bqual}`));
  for (const k of [...seen.keys()]) if (!keys.has(k)) seen.delete(k);
  for (const xid of xids) {
    const key = `${xid.gtrid},${xid.bqual}`;
    const first = seen.get(key) ?? now;
    seen.set(key, first);
    if (now - first < afterMs) {
      round.waiting++;
      continue;
    }
    const what = await decide(xid);
    if (what === 'commit') {
      await commitBranch(url, xid);
      round.committed++;
    } else if (what === 'rollback') {
      await rollbackBranch(url, xid);
      round.rolledBack++;
    } else round.waiting++;
    if (what !== 'wait') seen.delete(key);
  }
  return round;
}

export function startXaRecoveryJob(store: OpenStore, cfg: Config['xaRecovery'], decide: Decider, log: Logger) {
  const seen = new Map<string, number>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    recoverPrepared(store.url, decide, seen, cfg.afterMs)
      .then((r) => (r.committed || r.rolledBack) && log.warn({ unit: store.unit, ...r }, 'xa recovery resolved prepared branches'))
      .catch((err) => log.warn({ unit: store.unit, error: String(err?.message ?? err) }, 'xa recovery failed; will retry'))
      .finally(() => (busy = false));
  }, cfg.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
