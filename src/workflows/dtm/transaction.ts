// The state of one global transaction inside its workflow, and the one way its branches are called: status changes
// (kept in the FlowStatus search attribute), the branch list in DTM's shape, the durable record, and callBranch — an
// activity on the dtm service's queue with the transaction's own request timeout and retry interval, retried by the
// server (never a loop here), with a summary per call so the Web UI shows the branches as steps.
import { ApplicationFailure } from '@temporalio/common';
import { log, proxyActivities, setCurrentDetails, upsertSearchAttributes, type ActivityOptions } from '@temporalio/workflow';
import { dtmDefaults, dtmQueue, type BranchOp, type BranchOutcome, type BranchRecord, type DtmActivities, type TransRecord, type TransStatus } from '../../activities/dtm/contract';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import type { DtmStart, TransBody } from './contract';

const MAX_INTERVAL_MS = 3600_000;

export interface CallOptions {
  /** FAILURE is final (a saga action, a back-check); otherwise retried until SUCCESS. */
  failureFinal: boolean;
  /** Give up (as a failure) at this workflow time: a saga's timeout-to-fail. */
  deadlineMs?: number;
  /** Apply the transaction's retry_limit (forward calls only: an undo is never abandoned). */
  limited?: boolean;
}

export class Transaction {
  status: TransStatus;
  rollbackReason = '';
  readonly branches: BranchRecord[] = [];
  readonly createTime = new Date().toISOString();
  private updateTime = this.createTime;
  private finishTime: string | null = null;
  private rollbackTime: string | null = null;

  constructor(
    public body: TransBody,
    readonly start: DtmStart,
  ) {
    this.status = start.via === 'submit' ? 'submitted' : 'prepared';
  }

  get options() {
    return this.body.options;
  }

  /** Seconds → ms with DTM's default; a saga has no timeout-to-fail unless it asks. */
  timeoutToFailMs(): number | undefined {
    const s = this.options.timeoutToFailS || (this.body.transType === 'saga' ? 0 : dtmDefaults.timeoutToFailS);
    return s > 0 ? s * 1000 : undefined;
  }

  setStatus(status: TransStatus, reason?: string): void {
    this.status = status;
    this.updateTime = new Date().toISOString();
    if (reason !== undefined && !this.rollbackReason) this.rollbackReason = reason;
    if (status === 'succeed') this.finishTime = this.updateTime;
    if (status === 'failed') this.rollbackTime = this.updateTime;
    upsertSearchAttributes([{ key: FlowStatusKey, value: status.toUpperCase() }]);
    setCurrentDetails(`${this.body.transType} ${this.body.gid}: ${status}${this.rollbackReason ? ` (${this.rollbackReason})` : ''}`);
  }

  addBranch(branchId: string, op: BranchOp, url: string, binData?: string): BranchRecord {
    const b: BranchRecord = { branch_id: branchId, op, url, status: 'prepared', ...(binData !== undefined ? { bin_data: binData } : {}), finish_time: null };
    this.branches.push(b);
    return b;
  }

  branch(branchId: string, op: BranchOp): BranchRecord | undefined {
    return this.branches.find((b) => b.branch_id === branchId && b.op === op);
  }

  view(): TransRecord {
    const b = this.body;
    return {
      gid: b.gid,
      trans_type: b.transType,
      status: this.status,
      protocol: b.protocol || 'http',
      rollback_reason: this.rollbackReason,
      query_prepared: b.queryPrepared,
      custom_data: b.customData,
      steps: b.steps,
      payloads: b.payloads,
      options: {
        wait_result: b.options.waitResult,
        timeout_to_fail: b.options.timeoutToFailS,
        retry_interval: b.options.retryIntervalS,
        request_timeout: b.options.requestTimeoutS,
        retry_limit: b.options.retryLimit,
        concurrent: b.concurrent,
      },
      create_time: this.createTime,
      update_time: this.updateTime,
      finish_time: this.finishTime,
      rollback_time: this.rollbackTime,
      branches: this.branches.map((x) => ({ ...x })),
    };
  }

  private activityOptions(o: CallOptions): ActivityOptions {
    const opts = this.options;
    const requestTimeoutMs = (opts.requestTimeoutS || dtmDefaults.requestTimeoutS) * 1000;
    const intervalMs = (opts.retryIntervalS || dtmDefaults.retryIntervalS) * 1000;
    return {
      taskQueue: dtmQueue(this.start.queuePrefix),
      startToCloseTimeout: requestTimeoutMs + 5_000,
      ...(o.deadlineMs !== undefined ? { scheduleToCloseTimeout: Math.max(1_000, o.deadlineMs - Date.now()) } : {}),
      retry: {
        initialInterval: intervalMs,
        backoffCoefficient: 2,
        maximumInterval: Math.max(intervalMs, MAX_INTERVAL_MS),
        ...(o.limited && opts.retryLimit > 0 ? { maximumAttempts: opts.retryLimit + 1 } : {}),
      },
    };
  }

  /** Calls one branch; a FAILURE (when final) or giving up (deadline, retry limit) comes back as FAILURE. */
  async call(b: { branch_id: string; op: BranchOp; url: string }, body: string, o: CallOptions): Promise<BranchOutcome> {
    const options = this.activityOptions(o);
    const opts = this.options;
    const act = proxyActivities<DtmActivities>(options).callBranch;
    let outcome: BranchOutcome;
    try {
      outcome = await act.executeWithOptions({ ...options, summary: `${b.op} ${b.branch_id} ${shortUrl(b.url)}` }, [
        {
          gid: this.body.gid,
          transType: this.body.transType,
          branchId: b.branch_id,
          op: b.op,
          url: b.url,
          body,
          headers: opts.branchHeaders,
          requestTimeoutMs: (opts.requestTimeoutS || dtmDefaults.requestTimeoutS) * 1000,
          retryIntervalMs: (opts.retryIntervalS || dtmDefaults.retryIntervalS) * 1000,
          failureFinal: o.failureFinal,
        },
      ]);
    } catch (err) {
      // Only forward calls can end here (a deadline, a retry limit, a refused URL): the saga treats them as failed.
      if (!o.failureFinal) throw err;
      const cause = (err as { cause?: Error }).cause;
      outcome = { result: 'FAILURE', message: `${b.op} ${b.branch_id} gave up: ${cause instanceof ApplicationFailure ? cause.message : (cause?.message ?? 'timeout')}` };
      log.warn('branch call gave up', { gid: this.body.gid, branch: b.branch_id, op: b.op });
    }
    const record = this.branch(b.branch_id, b.op);
    if (record) {
      record.status = outcome.result === 'SUCCESS' ? 'succeed' : 'failed';
      record.finish_time = new Date().toISOString();
    }
    return outcome;
  }

  /** Writes the durable record (at start and at the end; `query` asks the workflow in between). */
  record(): Promise<void> {
    const options: ActivityOptions = {
      taskQueue: dtmQueue(this.start.queuePrefix),
      startToCloseTimeout: 10_000,
      retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 30_000 },
    };
    return proxyActivities<DtmActivities>(options).recordTransaction.executeWithOptions({ ...options, summary: `record ${this.status}` }, [this.view()]);
  }
}

/** host + path, never the query string (it may carry a participant's parameters). */
function shortUrl(url: string): string {
  const m = url.match(/^[a-z]+:\/\/([^/?#]*)([^?#]*)/i);
  return m ? `${m[1]}${m[2]}` : 'invalid URL';
}
