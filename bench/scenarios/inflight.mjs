// inflight: worker RSS with --inflight (200) orders held in AWAITING_APPROVAL (cached in the worker): the peak right
// after the last one parked, and settled once V8's memory reducer collected the burst's garbage. With --mem-probe, the
// worker's V8 heap statistics before and after a GC, and heap snapshots of its threads (kept in bench/results/profiles/).
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../../scripts/lib/log.mjs';
import { waitFor } from '../../scripts/lib/procs.mjs';
import { settle } from '../lib/audit.mjs';
import { BIG } from '../lib/fixtures.mjs';
import { groupSnapshot } from '../lib/proc.mjs';
import { round } from '../lib/stats.mjs';

const awaiting = async (ordersSql) => Number((await ordersSql.query(`SELECT COUNT(*) AS n FROM orders WHERE status = 'AWAITING_APPROVAL'`))[0][0].n);

/**
 * In batches of 20, each parked before the next is sent: 200 checkouts started at once on 2 busy cores queue their
 * workflow tasks past the 10 s task timeout and thrash; what is measured is the worker holding them.
 */
async function parkOrders({ S, http, accounts, ordersSql, expected }) {
  const already = await awaiting(ordersSql);
  for (let i = 0; i < S.inflight; i += 20) {
    const size = Math.min(20, S.inflight - i);
    const batch = await Promise.all(
      Array.from({ length: size }, (_, j) =>
        http.post('/v1/orders', { customerId: `cust-${i + j}`, paymentAccountId: accounts.ids[(i + j) % S.accounts], items: [{ sku: BIG.sku, quantity: 1 }] }, { 'idempotency-key': randomUUID() }),
      ),
    );
    for (const r of batch) if (r.status !== 202) throw new Error(`POST /v1/orders answered ${r.status}: ${r.text.slice(0, 200)}`);
    expected.inflight += size;
    await waitFor(`${i + size} orders AWAITING_APPROVAL`, async () => (await awaiting(ordersSql)) >= already + i + size, { timeoutMs: 120_000, intervalMs: 250 });
  }
}

/** Up to settleS seconds; done early once RSS fell well below its peak and held for 4 s. */
async function settledRss(pid, settleS) {
  let peak = 0;
  const trace = [];
  for (let t = 0; t <= settleS; t += 1) {
    const now = groupSnapshot(pid).rssMb;
    peak = Math.max(peak, now);
    trace.push(round(now, 0));
    const last = trace.slice(-5);
    if (last.length === 5 && Math.max(...last) - Math.min(...last) < 3 && last[4] < 0.9 * peak) break;
    if (t < settleS) await sleep(1000);
  }
  return { peak, trace };
}

/** --mem-probe: heap statistics before and after a GC, and the worker threads' heap snapshots, kept. */
async function probeHeaps({ root, memProbeDir, startedAt, worker }) {
  const read = () =>
    readdirSync(memProbeDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(memProbeDir, f), 'utf8')));
  const beforeGc = read();
  writeFileSync(join(memProbeDir, 'gc'), '');
  await sleep(2500);
  const heaps = { beforeGc, afterGc: read(), rssAfterGc: round(groupSnapshot(worker.child.pid).rssMb, 1) };
  writeFileSync(join(memProbeDir, 'snap'), '');
  await waitFor('worker heap snapshots', async () => existsSync(join(memProbeDir, 'snap-done')), { timeoutMs: 120_000 });
  const keep = join(root, 'bench/results/profiles', `heaps-${startedAt.replace(/[:.]/g, '-')}`); // gitignored
  mkdirSync(keep, { recursive: true });
  for (const f of readdirSync(memProbeDir).filter((f) => f.endsWith('.heapsnapshot'))) cpSync(join(memProbeDir, f), join(keep, f));
  log.info(`bench: worker thread heap snapshots in ${keep}`);
  log.info(`bench: worker heaps ${JSON.stringify(heaps)}`);
  return heaps;
}

export default {
  name: 'inflight',
  description: 'worker RSS with --inflight orders held in AWAITING_APPROVAL (peak, and settled after V8\'s memory reducer)',
  options: {
    inflight: { type: 'string', default: '200', help: 'N: orders held' },
    'inflight-settle': { type: 'string', help: 'S: at most this long for RSS to settle (60; quick 35)' },
  },
  settings: (opt) => ({ inflight: Number(opt.inflight) }),
  async run(ctx) {
    const { S, opt, worker } = ctx;
    await settle(ctx, 180_000);
    const before = groupSnapshot(worker.child.pid);
    await parkOrders(ctx);
    // RSS right after the last flow parked (peak) and once the worker has been idle a while (V8's memory reducer
    // collects the garbage of the burst): the steady state of a worker holding that many flows.
    const settleS = Number(opt['inflight-settle'] ?? (opt.quick ? 35 : 60));
    const { peak, trace } = await settledRss(worker.child.pid, settleS);
    const rss = groupSnapshot(worker.child.pid).rssMb;
    const after = groupSnapshot(worker.child.pid);
    const heaps = opt['mem-probe'] ? await probeHeaps(ctx) : undefined;
    const open = await awaiting(ctx.ordersSql);
    const workerInflight = {
      flows_in_flight: open,
      worker_rss_mb: round(rss, 1),
      worker_rss_peak_mb: round(peak, 1),
      worker_rss_trace_mb: trace,
      settle_s: settleS,
      worker_rss_before_mb: round(before.rssMb, 1),
      worker_rss_anon_mb: round(after.anonMb, 1),
      worker_rss_file_mb: round(after.fileMb, 1),
      worker_rss_anon_before_mb: round(before.anonMb, 1),
      worker_peak_rss_whole_run_mb: round(after.hwmMb, 1),
      worker_pid: after.pid,
      ...(heaps ? { heaps } : {}),
      how: `${S.inflight} checkout orders over the approval threshold held in AWAITING_APPROVAL (cached in the worker), RSS of the worker's node process (it serves every unit) after all earlier scenarios`,
    };
    log.info(`bench: worker RSS with ${open} flows in flight: ${workerInflight.worker_rss_mb} MB (before ${workerInflight.worker_rss_before_mb} MB)`);
    return workerInflight;
  },
};
