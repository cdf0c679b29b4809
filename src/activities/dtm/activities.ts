// The dtm service's activities. callBranch makes one HTTP call to a participant and reads its answer per the protocol
// (protocol.ts); whatever is not final is thrown back to the server with the delay of the next attempt
// (ApplicationFailure.nextRetryDelay): ONGOING at the transaction's retry interval, any other error at that interval
// doubled per attempt (capped). So retries are the server's, and a branch failing for days adds no history events.
// recordTransaction upserts the durable record (one statement: the record is keyed by gid and the write is idempotent,
// so it needs no barrier row; a terminal record is never moved back).
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Sequelize } from 'sequelize';
import { exec } from '../../platform/db/sql';
import { DtmErrors, readAnswer, type BranchCall, type BranchOutcome, type DtmActivities, type TransRecord } from './contract';
import { checkAllowedUrl, UnsafeUrlError, type AllowListPolicy } from '../../platform/url-allow';

const MAX_RETRY_DELAY_MS = 3600_000;
const tracer = trace.getTracer('sagaflow-dtm');

/** The retry delay after attempt `attempt` (1-based): ONGOING keeps the interval, an error doubles it per attempt. */
export function retryDelayMs(answer: 'ONGOING' | 'ERROR', intervalMs: number, attempt: number): number {
  if (answer === 'ONGOING') return intervalMs;
  return Math.min(intervalMs * 2 ** Math.min(Math.max(attempt - 1, 0), 20), MAX_RETRY_DELAY_MS);
}

function requestOf(call: BranchCall, url: URL): { url: string; init: RequestInit } {
  for (const [k, v] of Object.entries({ gid: call.gid, trans_type: call.transType, branch_id: call.branchId, op: call.op })) url.searchParams.set(k, v);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...call.headers };
  propagation.inject(context.active(), headers);
  const span = trace.getSpan(context.active())?.spanContext();
  if (!headers.traceparent && span && trace.isSpanContextValid(span)) {
    headers.traceparent = `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`;
  }
  const post = call.body !== '' || call.transType === 'xa';
  return { url: url.toString(), init: { method: post ? 'POST' : 'GET', headers, body: post ? call.body : undefined, signal: AbortSignal.timeout(call.requestTimeoutMs) } };
}

async function send(call: BranchCall, url: URL): Promise<{ status: number; text: string }> {
  const { url: target, init } = requestOf(call, url);
  try {
    const res = await fetch(target, { ...init, redirect: 'manual' });
    return { status: res.status, text: (await res.text()).slice(0, 4096) };
  } catch (err) {
    // A refused connection or a timeout: retried like any error (the participant may not have seen the call).
    return { status: 0, text: (err as Error).name === 'TimeoutError' ? 'request timed out' : 'connection failed' };
  }
}

export function createDtmActivities({ db, urlPolicy }: { db: Sequelize; urlPolicy: AllowListPolicy }): DtmActivities {
  return {
    async callBranch(call: BranchCall): Promise<BranchOutcome> {
      let url: URL;
      try {
        url = await checkAllowedUrl(call.url, urlPolicy);
      } catch (err) {
        if (err instanceof UnsafeUrlError) throw ApplicationFailure.create({ type: DtmErrors.UrlRefused, message: `branch URL refused: ${err.message}`, nonRetryable: call.failureFinal });
        throw err;
      }
      return tracer.startActiveSpan(`dtm ${call.op} ${call.branchId}`, { kind: SpanKind.CLIENT, attributes: { 'dtm.gid': call.gid, 'dtm.trans_type': call.transType, 'dtm.op': call.op, 'url.full': `${url.origin}${url.pathname}` } }, async (span): Promise<BranchOutcome> => {
        try {
          const { status, text } = await send(call, url);
          span.setAttribute('http.response.status_code', status);
          const answer = readAnswer(status, text);
          if (answer === 'SUCCESS') return { result: 'SUCCESS' };
          span.setStatus({ code: SpanStatusCode.ERROR, message: answer });
          const message = `${call.op} ${call.branchId} answered ${status || text}${answer === 'ERROR' ? '' : ` ${answer}`}`;
          if (answer === 'FAILURE' && call.failureFinal) return { result: 'FAILURE', message };
          const delay = retryDelayMs(answer === 'ONGOING' ? 'ONGOING' : 'ERROR', call.retryIntervalMs, activityInfo().attempt);
          throw ApplicationFailure.create({ type: answer === 'ONGOING' ? DtmErrors.Ongoing : DtmErrors.Retry, message, nextRetryDelay: delay });
        } finally {
          span.end();
        }
      });
    },

    async recordTransaction(r: TransRecord): Promise<void> {
      const json = (v: unknown) => JSON.stringify(v);
      await exec(
        db,
        `INSERT INTO dtm_trans (gid, trans_type, status, protocol, rollback_reason, query_prepared, custom_data, steps, payloads, options, branches,
           create_time, update_time, finish_time, rollback_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE
           branches = IF(status IN ('succeed', 'failed'), branches, VALUES(branches)),
           rollback_reason = IF(status IN ('succeed', 'failed'), rollback_reason, VALUES(rollback_reason)),
           finish_time = IF(status IN ('succeed', 'failed'), finish_time, VALUES(finish_time)),
           rollback_time = IF(status IN ('succeed', 'failed'), rollback_time, VALUES(rollback_time)),
           update_time = IF(status IN ('succeed', 'failed'), update_time, VALUES(update_time)),
           status = IF(status IN ('succeed', 'failed'), status, VALUES(status))`,
        [
          r.gid, r.trans_type, r.status, r.protocol, r.rollback_reason, r.query_prepared, r.custom_data, json(r.steps), json(r.payloads), json(r.options), json(r.branches),
          new Date(r.create_time), new Date(r.update_time), r.finish_time ? new Date(r.finish_time) : null, r.rollback_time ? new Date(r.rollback_time) : null,
        ],
      );
    },
  };
}
