// modes (only when named: --scenarios modes; it adds six windows): the three guarantees side by side. POST
// /v1/transfers with consistency saga / tcc / xa, Prefer: wait=30, closed loop at each of --modes-concurrency (16,64):
// tps, p50/p99, CPU per transfer (API + worker + both MariaDB + Temporal) and InnoDB row-lock waits. Its transfers
// carry MODES_MEMO: the shared audit leaves them to this scenario's `audit` (each COMPLETED).
import { randomUUID } from 'node:crypto';
import { closedLoop } from '../lib/load.mjs';
import { windowHooks } from '../lib/measure.mjs';
import { round, summarize } from '../lib/stats.mjs';

/** The memo of this scenario's transfers: the shared audit leaves them to `audit` below. */
const MODES_MEMO = 'bench-modes';

/** InnoDB row-lock waits so far, summed over the ledger servers (one connection per server). */
async function rowLockWaits(ledgerSql) {
  let waits = 0;
  let timeMs = 0;
  for (const sql of ledgerSql) {
    const [rows] = await sql.query("SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_%'");
    const v = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
    waits += v.Innodb_row_lock_waits ?? 0;
    timeMs += v.Innodb_row_lock_time ?? 0;
  }
  return { waits, timeMs };
}

/** One window: `mode` transfers at `concurrency`, with the row-lock counters read at its start and end. */
async function oneMode({ S, http, ledgerSql, transferBody, measured, record }, mode, concurrency) {
  const outcomes = {};
  let locksAtStart;
  let locksAtEnd;
  const op = async () => {
    const body = { ...transferBody(), consistency: mode, memo: `${MODES_MEMO} ${mode}` };
    const r = await http.post('/v1/transfers', body, { prefer: 'wait=30', 'idempotency-key': randomUUID() });
    const k = `${r.status} ${r.body?.data?.status ?? r.body?.code ?? ''}`.trim();
    outcomes[k] = (outcomes[k] ?? 0) + 1;
    if (r.status >= 400) throw new Error(`POST /v1/transfers (${mode}) ${r.status}: ${r.text.slice(0, 300)}`);
    return r.status === 200 && r.body?.data?.status === 'COMPLETED';
  };
  const { r, usage } = await measured(async (hooks) => {
    const wrapped = {
      start: () => (hooks.start(), rowLockWaits(ledgerSql).then((l) => (locksAtStart ??= l))),
      end: () => (hooks.end(), rowLockWaits(ledgerSql).then((l) => (locksAtEnd ??= l))),
    };
    const cancel = windowHooks(wrapped, S.warmupMs, S.durationMs);
    const res = await closedLoop({ concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, op });
    cancel();
    return res;
  });
  locksAtStart ??= await rowLockWaits(ledgerSql);
  locksAtEnd ??= await rowLockWaits(ledgerSql);
  const cpu = ['api', 'worker', 'mariadb_a', 'mariadb_b', 'temporal'].reduce((a, k) => a + (usage[k]?.cpu_s ?? 0), 0);
  const lockWaits = locksAtEnd.waits - locksAtStart.waits;
  const s = record(`modes-${mode}@${concurrency}`, {
    tps: r.ok / r.windowS,
    lat: summarize(r.latencies),
    usage,
    extra: {
      concurrency,
      consistency: mode,
      errors: r.errors,
      outcomes,
      cpu_ms_per_transfer: r.ok ? round((cpu * 1000) / r.ok, 1) : null,
      row_lock_waits: lockWaits,
      row_lock_waits_per_transfer: r.ok ? round(lockWaits / r.ok, 3) : null,
      row_lock_wait_ms: locksAtEnd.timeMs - locksAtStart.timeMs,
      measure: 'transfers COMPLETED per second (POST with consistency and Prefer: wait=30 answered 200 COMPLETED), closed loop',
    },
  });
  return { mode, concurrency, tps: s.tps, p50_ms: s.p50_ms, p99_ms: s.p99_ms, cpu_ms_per_transfer: s.cpu_ms_per_transfer, row_lock_waits: lockWaits, row_lock_wait_ms: s.row_lock_wait_ms };
}

export default {
  name: 'modes',
  description: 'saga / tcc / xa transfers side by side (consistency per request), closed loop at each --modes-concurrency:\ntps, p50/p99, CPU per transfer and InnoDB row-lock waits',
  onlyWhenNamed: true,
  options: { 'modes-concurrency': { type: 'string', default: '16,64', help: 'N,N: in flight for the modes scenario' } },
  async run(ctx) {
    const levels = ctx.opt['modes-concurrency'].split(',').map(Number).filter((n) => n > 0);
    const rows = [];
    for (const concurrency of levels) for (const mode of ['saga', 'tcc', 'xa']) rows.push(await oneMode(ctx, mode, concurrency));
    return rows;
  },
  memo: MODES_MEMO,
  /** Its transfers (rows with this memo, every shard): each COMPLETED. */
  async audit(_ctx, transfers) {
    const notDone = [...transfers.values()].filter((t) => t.status !== 'COMPLETED');
    return notDone.length ? [`${notDone.length} modes transfers not COMPLETED`] : [];
  },
  /** The report's section: one row per mode and level. */
  markdown(result) {
    const modes = result.modes;
    if (!modes?.length) return [];
    return [
      '### The three guarantees side by side (modes)',
      '',
      '| mode | in flight | tps | p50 ms | p99 ms | CPU ms / transfer | row-lock waits | row-lock wait ms |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...modes.map((m) => `| ${m.mode} | ${m.concurrency} | ${m.tps} | ${m.p50_ms} | ${m.p99_ms} | ${m.cpu_ms_per_transfer ?? ''} | ${m.row_lock_waits} | ${m.row_lock_wait_ms} |`),
      '',
      'CPU per transfer: API + worker + both MariaDB servers + Temporal CPU in the window over the transfers completed in it. Row-lock waits: InnoDB row-lock waits (and their total time) on the two ledger servers in the window.',
      '',
    ];
  },
};
