// Transfers through the API as the scenarios send them: a closed loop at a concurrency (each request ends when its
// flow is COMPLETED: Prefer: wait=30) or an open loop at a fixed rate (Prefer: wait=10), to the API in single or
// batched mode; the answers counted by status, the 200 COMPLETED ones counted for the audit.
import { randomUUID } from 'node:crypto';
import { log } from '../../scripts/lib/log.mjs';
import { closedLoop, openLoop } from './load.mjs';
import { windowHooks } from './measure.mjs';
import { round, summarize } from './stats.mjs';

/** Answers by `<status> <flow status or error code>`. */
export function outcomeCounter() {
  const outcomes = {};
  const count = (r) => {
    const k = `${r.status} ${r.body?.data?.status ?? r.body?.code ?? ''}`.trim();
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  };
  return { outcomes, count };
}

/** One POST /v1/transfers: true when answered 200 COMPLETED (counted in `expected.httpCompleted`), throws on >= 400. */
export const completedOp = ({ transferBody, expected }, prefer, to, count) => async () => {
  const r = await to.post('/v1/transfers', transferBody(), { prefer, 'idempotency-key': randomUUID() });
  count(r);
  if (r.status === 200 && r.body?.data?.status === 'COMPLETED') {
    expected.httpCompleted++;
    return true;
  }
  if (r.status >= 400) throw new Error(`POST /v1/transfers ${r.status}: ${r.text.slice(0, 300)}`);
  return false;
};

/** The batched API's batch-size histogram (sum, count) from its /metrics. */
async function batchSizes(to) {
  const text = (await to.get('/metrics')).text;
  const num = (k) => Number(text.match(new RegExp(`^sagaflow_batch_size_${k}\\{type="transfer"\\} (\\S+)`, 'm'))?.[1] ?? 0);
  return { sum: num('sum'), count: num('count') };
}

/**
 * Closed loop at `concurrency` to `to` (`mode` saga: TRANSFER_MODE=single; batched: the batched API). `onAnswer(r)`
 * sees every answer; `more`: fields added to the row.
 */
export async function closedTransfers(ctx, name, { concurrency, to, mode, onAnswer, more = {} }) {
  const { S, measured, record } = ctx;
  const counter = outcomeCounter();
  const { outcomes } = counter;
  const count = (r) => (counter.count(r), onAnswer?.(r));
  const sizesBefore = mode === 'batched' ? await batchSizes(to) : undefined;
  const { r, usage } = await measured(async (hooks) => {
    const cancel = windowHooks(hooks, S.warmupMs, S.durationMs);
    const res = await closedLoop({ concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, op: completedOp(ctx, 'wait=30', to, count) });
    cancel();
    return res;
  });
  if (r.firstError) log.warn(`${name}: ${r.firstError.message}`);
  const sizesAfter = sizesBefore && (await batchSizes(to));
  const batches = sizesAfter && sizesAfter.count - sizesBefore.count;
  return record(name, {
    tps: r.ok / r.windowS,
    lat: summarize(r.latencies),
    usage,
    extra: { mode, ops: r.ok, concurrency, ...(batches ? { batches, mean_batch_size: round((sizesAfter.sum - sizesBefore.sum) / batches, 1) } : {}), errors: r.errors, outcomes, measure: `transfers COMPLETED per second (POST with Prefer: wait=30 answered 200 COMPLETED, TRANSFER_MODE=${mode === 'batched' ? 'batched' : 'single'}), closed loop`, ...more },
  });
}

/** Open loop at `rate` per second to `to`; latency from the scheduled send time to 200 COMPLETED. */
export async function pacedTransfers(ctx, name, rate, { to, mode }) {
  const { S, measured, record } = ctx;
  const { outcomes, count } = outcomeCounter();
  const { r, usage } = await measured(async (hooks) => {
    const cancel = windowHooks(hooks, S.warmupMs, S.pacedMs);
    const res = await openLoop({ rate, warmupMs: S.warmupMs, durationMs: S.pacedMs, op: completedOp(ctx, 'wait=10', to, count) });
    cancel();
    return res;
  });
  if (r.firstError) log.warn(`${name}: ${r.firstError.message}`);
  return record(name, {
    tps: r.ok / r.windowS,
    lat: summarize(r.latencies),
    usage,
    extra: { mode: `sync-${mode}`, ops: r.ok, rate, errors: r.errors, outcomes, late: r.late, dropped: r.dropped, measure: 'open loop; latency from the scheduled send time to 200 COMPLETED' },
  });
}
