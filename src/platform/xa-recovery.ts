// The XA recovery job, in every worker that serves a store whose domain runs XA branches (the ledger's shards): it
// lists the prepared XA transactions of its server (XA RECOVER is server-wide) and keeps only its own: those of the
// formatID of this deployment and this store's database (xa.ts, xaFormatId). Each one seen prepared for longer than
// XA_RECOVERY_AFTER_MS is resolved by its flow's recorded decision:
// - the flow (the xid's gtrid is its workflow id) answers `xa-decision` for the branch (the bqual): commit → XA COMMIT,
//   rollback → XA ROLLBACK (and the refusal barrier rows, in this store's database: the branch's own); undecided (or a
//   branch it does not know) while it runs → left to the flow;
// - the flow is closed without a commit decision, or Temporal does not know it → XA ROLLBACK (presumed abort: the
//   formatID says the branch is this deployment's, so a flow Temporal does not know never ran or is long gone);
// - Temporal or the flows worker does not answer → left for the next round (when unsure, wait).
// Branches prepared before xids were scoped (formatID 1) may be any deployment's: one is resolved only when a flow of
// this namespace knows it and decided (or closed undecided); a flow Temporal does not know leaves it alone, and the XA
// ROLLBACK writes no barrier row (its database is not known; the flow's own phase 2 writes them).
// Several jobs may resolve the same xid at once (one per ledger worker, and the flow itself): commit and rollback are
// idempotent. A prepared branch holds its row locks, so after worker crashes and database restarts this job is what
// guarantees none is left holding them.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from './logger';
import type { OpenStore } from './stores';
import { xaDecisionQuery, type XaDecision } from './workflow/xa';
import { commitBranch, connect, finishXid, LEGACY_FORMAT_ID, recoverXids, rollbackBranch, xaFormatId, type XaDeployment, type Xid } from './xa';

export type Resolution = 'commit' | 'rollback' | 'wait';

/**
 * What to do with a prepared branch, asked of Temporal. `presumeAbort`: a flow Temporal does not know (or that does
 * not know the branch) is rolled back — only for xids known to be this deployment's.
 */
export type Decider = (xid: Xid, o?: { presumeAbort: boolean }) => Promise<Resolution>;

export function temporalDecider(client: Client): Decider {
  return async ({ gtrid, bqual }, { presumeAbort } = { presumeAbort: true }) => {
    const handle = client.workflow.getHandle(gtrid);
    let running: boolean;
    try {
      running = (await handle.describe()).status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return presumeAbort ? 'rollback' : 'wait';
      return 'wait';
    }
    let decision: XaDecision;
    try {
      decision = await handle.query(xaDecisionQuery, bqual);
    } catch {
      return 'wait';
    }
    if (decision === 'commit' || decision === 'rollback') return decision;
    if (decision === 'unknown' && !presumeAbort) return 'wait';
    return running ? 'wait' : 'rollback';
  };
}

/** The database a recovery job looks after, and the formatID of this deployment's branches on it. */
export interface XaTarget {
  url: string;
  formatId: number;
}

export const xaTarget = (deployment: XaDeployment, url: string): XaTarget => ({ url, formatId: xaFormatId(deployment, url) });

export interface RecoveryRound {
  prepared: number;
  committed: number;
  rolledBack: number;
  waiting: number;
}

/** One round over a server: resolves the branches first seen more than `afterMs` ago (`seen` remembers when). */
export async function recoverPrepared(target: XaTarget, decide: Decider, seen: Map<string, number>, afterMs: number, now = Date.now()): Promise<RecoveryRound> {
  const { url, formatId } = target;
  const conn = await connect(url);
  let xids: Required<Xid>[];
  try {
    xids = await recoverXids(conn, [formatId, LEGACY_FORMAT_ID]);
  } finally {
    conn.destroy();
  }
  const round: RecoveryRound = { prepared: xids.length, committed: 0, rolledBack: 0, waiting: 0 };
  const keyOf = (x: Required<Xid>) => `${x.gtrid},${x.bqual},${x.formatId}`;
  const keys = new Set(xids.map(keyOf));
  for (const k of [...seen.keys()]) if (!keys.has(k)) seen.delete(k);
  for (const xid of xids) {
    const key = keyOf(xid);
    const ours = xid.formatId === formatId;
    const first = seen.get(key) ?? now;
    seen.set(key, first);
    if (now - first < afterMs) {
      round.waiting++;
      continue;
    }
    const what = await decide(xid, { presumeAbort: ours });
    if (what === 'commit') {
      await (ours ? commitBranch(url, xid) : finishLegacy(url, 'COMMIT', xid));
      round.committed++;
    } else if (what === 'rollback') {
      await (ours ? rollbackBranch(url, xid) : finishLegacy(url, 'ROLLBACK', xid));
      round.rolledBack++;
    } else round.waiting++;
    if (what !== 'wait') seen.delete(key);
  }
  return round;
}

async function finishLegacy(url: string, verb: 'COMMIT' | 'ROLLBACK', xid: Xid) {
  const conn = await connect(url);
  try {
    await finishXid(conn, verb, xid);
  } finally {
    conn.destroy();
  }
}

export function startXaRecoveryJob(store: OpenStore, cfg: Config['xaRecovery'], decide: Decider, log: Logger, deployment: XaDeployment) {
  const target = xaTarget(deployment, store.url);
  const seen = new Map<string, number>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    recoverPrepared(target, decide, seen, cfg.afterMs)
      .then((r) => (r.committed || r.rolledBack) && log.warn({ unit: store.unit, ...r }, 'xa recovery resolved prepared branches'))
      .catch((err) => log.warn({ unit: store.unit, error: String(err?.message ?? err) }, 'xa recovery failed; will retry'))
      .finally(() => (busy = false));
  }, cfg.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
