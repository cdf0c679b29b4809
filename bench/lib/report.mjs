// The bench's results: the ratios and targets read off the scenarios' rows, the results JSON (bench/results/
// latest.json and a copy under runs/), latest.md (the same as Markdown, also printed) and latest.svg (chart.mjs).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devServerDynamicConfig, DYNAMIC_CONFIG, SQLITE_PRAGMAS } from '../../scripts/lib/temporal-server.mjs';
import { chart } from './chart.mjs';
import { kv } from './stack.mjs';
import { round } from './stats.mjs';

// 0.2's per-transfer saga before the performance work: `npm run bench -- --quick` on Node 24 at 64 in flight.
const SAGA_0_2_TPS = 8.1;
// The synchronous scenario the latency target reads: the default mode (TRANSFER_MODE=batched).
const DEFAULT_SYNC = 'sync-batched';
// Issue 23's targets ("Performance on a durable store").
const VS_DIRECT = 0.42;
const VS_DIRECT_MOONSHOT = 0.6;

/** The Temporal persistence of the bench's stack (`settings.temporal_store`), in words. */
export function storeWords(store) {
  if (store === 'cluster') return 'PostgreSQL, a two-node Temporal cluster (durable)';
  if (store === 'file') return 'SQLite file (durable, as `npm run dev`)';
  return 'in memory (a diagnostic: not durable)';
}

/** What a results row ran on: the dev scenario's own stack, no Temporal (direct-db), or the bench's store. */
const persistenceOf = (row, store) => (row.startsWith('dev@') ? 'dev: its own SQLite file' : row.startsWith('direct-db') ? 'direct-db: no Temporal' : `${row.split('@')[0]}: ${store === 'cluster' ? 'PostgreSQL cluster' : store === 'file' ? 'SQLite file' : 'memory'}`);

function ratiosAndTargets(scenarios, S, workerInflight, store) {
  const get = (n) => scenarios.find((s) => s.name === n);
  const ratio = (a, b) => (a != null && b ? round(a / b, 3) : null);
  const at = (mode, level) => get(`${mode}@${level}`);
  const ratios = {
    batched_vs_direct_at_64: ratio(at('batched', 64)?.tps, at('direct-db', 64)?.tps),
    batched_vs_direct_at_256: ratio(at('batched', 256)?.tps, at('direct-db', 256)?.tps),
    dev_vs_batched_at_64: ratio(at('dev', 64)?.tps, at('batched', 64)?.tps),
    saga_vs_0_2_at_64: ratio(at('saga', 64)?.tps, SAGA_0_2_TPS),
    batched_vs_saga_at_64: ratio(at('batched', 64)?.tps, at('saga', 64)?.tps),
    saga_vs_direct_at_64: ratio(at('saga', 64)?.tps, at('direct-db', 64)?.tps),
    dtm_saga_vs_direct_at_64: ratio(at('dtm-saga', 64)?.tps, at('direct-db', 64)?.tps),
    post_vs_client_start: ratio(get('start-post')?.p50_ms, get('start-bare')?.p50_ms),
    sync_p50_vs_direct_paced_p50: ratio(get(DEFAULT_SYNC)?.p50_ms, get('direct-db-paced')?.p50_ms),
  };
  // One target: its value, whether it is met (null: not measured), the rows it reads and their persistence.
  const T = (value, target, ok, rows) => ({ target, value: value ?? null, met: value == null ? null : ok(value), rows, persistence: rows.map((r) => persistenceOf(r, store)).join('; ') });
  const sync = get(DEFAULT_SYNC);
  const targets = {
    batched_vs_direct_at_64: T(ratios.batched_vs_direct_at_64, `>= ${VS_DIRECT}`, (v) => v >= VS_DIRECT, ['batched@64', 'direct-db@64']),
    batched_vs_direct_at_64_moonshot: T(ratios.batched_vs_direct_at_64, `>= ${VS_DIRECT_MOONSHOT} (moonshot)`, (v) => v >= VS_DIRECT_MOONSHOT, ['batched@64', 'direct-db@64']),
    ...(ratios.batched_vs_direct_at_256 != null ? { batched_vs_direct_at_256: T(ratios.batched_vs_direct_at_256, `>= ${VS_DIRECT}`, (v) => v >= VS_DIRECT, ['batched@256', 'direct-db@256']) } : {}),
    dev_vs_batched_at_64: T(ratios.dev_vs_batched_at_64, '>= 0.75 (npm run dev within 25 % of the bench)', (v) => v >= 0.75, ['dev@64', 'batched@64']),
    sync_p50_ms_at_fixed_rate: T(sync?.p50_ms, `<= 100 (${S.syncRate}/s, ${DEFAULT_SYNC})`, (v) => v <= 100, [DEFAULT_SYNC]),
    sync_p99_ms_at_fixed_rate: T(sync?.p99_ms, `<= 250 (${S.syncRate}/s, ${DEFAULT_SYNC})`, (v) => v <= 250, [DEFAULT_SYNC]),
    cpu_ms_per_transfer_batched_at_64: T(at('batched', 64)?.cpu_ms_per_op_no_db, '<= 3 (API + worker + Temporal: all processes but MariaDB and the load generator)', (v) => v <= 3, ['batched@64']),
    worker_rss_200_inflight_mb: T(workerInflight?.worker_rss_mb, '<= 300', (v) => v <= 300, ['inflight']),
    post_vs_client_start: T(ratios.post_vs_client_start, '<= 1.2 (POST p50 / bare workflow start p50)', (v) => v <= 1.2, ['start-post', 'start-bare']),
    dtm_saga_vs_direct_at_64: T(ratios.dtm_saga_vs_direct_at_64, `>= ${VS_DIRECT} (DTM: its saga + barrier at 0.41–0.42 × its raw SQL)`, (v) => v >= VS_DIRECT, ['dtm-saga@64', 'direct-db@64']),
  };
  return { ratios, targets };
}

/** The Temporal store's settings: which, in words, and for a SQLite file its pragmas; the dynamic config it runs with. */
function temporalSettings(store) {
  return {
    temporal_store: store,
    temporal_persistence: storeWords(store),
    ...(store === 'file' ? { sqlite_pragmas: [...SQLITE_PRAGMAS] } : {}),
    // What the server gets (scripts/lib/temporal-server.mjs): a dev server's own config in memory or on a file.
    dynamic_config: store === 'cluster' ? { ...DYNAMIC_CONFIG } : devServerDynamicConfig({ file: store === 'file' }),
  };
}

/** The results object. `values`: what scenarios returned, by name (modes, inflight, and any new one's). */
export function buildResult({ mach, startedAt, opt, S, ctx, scenarios, values, audit }) {
  const { modes, inflight, ...otherValues } = values;
  const store = opt.cluster ? 'cluster' : opt['temporal-store'];
  const { ratios, targets } = ratiosAndTargets(scenarios, S, inflight, store);
  const dev = scenarios.find((s) => s.name.startsWith('dev@'));
  const co = scenarios.find((s) => s.name === 'checkout');
  return {
    machine: mach,
    startedAt,
    finishedAt: new Date().toISOString(),
    label: opt.label || undefined,
    settings: {
      quick: opt.quick,
      runtime: opt.runtime,
      ...temporalSettings(store),
      workflow_tracing: opt['workflow-tracing'],
      worker_node_args: opt['worker-node-args'] || undefined,
      ...S,
      ledger_shards: ctx.SHARDS,
      accounts_by_shard: ctx.accounts.byShard.map((l) => l.length),
      task_queue_prefix: ctx.prefix,
      databases: ctx.mariadbs.map((s) => ({ server: s.name, port: s.port, databases: s.databases })),
      ...(dev ? { dev_temporal: dev.temporal } : {}),
      worker_env: kv(opt['worker-env']),
      api_env: kv(opt['api-env']),
    },
    scenarios,
    ratios,
    targets,
    checkout_orders_per_s: co ? { in_flight: co.concurrency, orders_per_s: co.tps, p50_ms: co.p50_ms, p99_ms: co.p99_ms } : null,
    worker_rss_200_inflight_mb: inflight?.worker_rss_mb ?? null,
    inflight,
    modes: modes ?? null,
    ...otherValues,
    audit,
  };
}

function header(r) {
  const m = r.machine;
  const st = r.settings;
  const dbs = (st.databases ?? []).map((d) => `${d.server.toUpperCase()}: ${d.databases.join(', ')}`).join('; ');
  return [
    `# sagaflow bench${st.quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${m.cores} cores, ${m.ram_gb} GiB RAM, ${m.cpu_model}, Node ${m.node}, ${m.os}. Load average at start ${m.loadavg_at_start.join(' ')}` +
      (m.concurrent_load.length ? `; **other load running**: ${m.concurrent_load.length} process(es) (${m.concurrent_load.map((l) => l.split(/\s+/).slice(1, 4).join(' ')).join('; ')})` : '; machine otherwise quiet') +
      '.',
    '',
    `Started ${r.startedAt}; ${st.durationMs / 1000} s windows (${st.pacedMs / 1000} s for the fixed-rate ones) after ${st.warmupMs / 1000} s warm-up, concurrency ${st.concurrency} (checkout ${st.checkoutConcurrency}, after ${Math.max(st.warmupMs, st.checkoutWarmupMs ?? 0) / 1000} s warm-up), ${st.accounts} accounts over ${st.ledger_shards} ledger shards (${(st.accounts_by_shard ?? []).join(' / ')}), ${Math.round(st.cross * 100)} % of transfers across shards, runtime ${st.runtime}. ` +
      `Temporal persistence: **${storeWords(st.temporal_store)}**${st.sqlite_pragmas ? `, SQLite pragmas ${st.sqlite_pragmas.join(', ')}` : ''}; dynamic config ${configWords(st.dynamic_config)}. Two MariaDB servers (${dbs}), the Temporal ${st.temporal_store === 'cluster' ? 'cluster' : 'dev server'}, the APIs, one worker process serving every unit and the load generator share the same cores.`,
    '',
    ...(st.dev_temporal
      ? [
          `The dev rows run a separate, real \`npm run dev\` on free ports, as dev.mjs starts it (development mode, its log level, the project's dynamic config; the bench's broker under a prefix of its own): its own two MariaDB servers, its API, its worker and its Temporal dev server persisted to **its own SQLite file (durable)**, SQLite pragmas ${st.dev_temporal.sqlite_pragmas.join(', ')}; dynamic config ${configWords(st.dev_temporal.dynamic_config)}. The bench's own stack stays up, idle, meanwhile (its CPU counts as other).`,
          '',
        ]
      : []),
  ];
}

const configWords = (c = {}) => Object.entries(c).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');

function scenarioTable(r) {
  const lines = [
    '| scenario | tps | p50 ms | p95 ms | p99 ms | app CPU s | app RSS MB | API CPU s | worker CPU s | MariaDB A CPU s | MariaDB B CPU s | Temporal CPU s | bench CPU s | idle / other / steal CPU s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const c = (s, k) => s.procs?.[k]?.cpu_s ?? '';
  for (const s of r.scenarios) {
    lines.push(
      `| ${s.name}${s.rate ? ` (@${s.rate}/s)` : ''}${s.name === 'checkout' ? ` (C=${s.concurrency})` : ''} | ${s.tps} | ${s.p50_ms} | ${s.p95_ms} | ${s.p99_ms} | ${s.cpu_s} | ${s.rss_mb} | ${c(s, 'api')} | ${c(s, 'worker')} | ${c(s, 'mariadb_a')} | ${c(s, 'mariadb_b')} | ${c(s, 'temporal')} | ${c(s, 'bench')} | ${s.machine_cpu ? `${s.machine_cpu.idle_s} / ${s.machine_cpu.other_s} / ${s.machine_cpu.steal_s}` : ''} |`,
    );
  }
  lines.push(
    '',
    'tps: completed transfers per second in the window (saga/sync: POST answered 200 COMPLETED; checkout: orders per second, POST /v1/orders answered 200 CONFIRMED); for start-*/http-floor, 1000 / mean latency of one call at a time. ' +
      'CPU s: CPU seconds in the window (start-*: over the whole interleaved start run, flows included), MariaDB per server (A: ledger shard 0, orders, api; B: ledger shard 1, inventory, loyalty); idle / other / steal: machine-wide idle CPU, CPU used by processes outside this bench, and CPU taken by the hypervisor in the same window. app CPU/RSS: the direct-db process for direct-db*, API + worker otherwise (RSS: peak of each node process in the window, summed).',
    '',
  );
  return lines;
}

function checkoutAndInflight(r) {
  const lines = [];
  if (r.checkout_orders_per_s) {
    const k = r.checkout_orders_per_s;
    lines.push(`Checkout at ${k.in_flight} in flight: **${k.orders_per_s} orders/s**, p50 ${k.p50_ms} ms, p99 ${k.p99_ms} ms.`, '');
  }
  if (r.inflight) {
    const i = r.inflight;
    lines.push(
      `Worker with ${i.flows_in_flight} flows in flight (orders held in AWAITING_APPROVAL): ${i.worker_rss_mb} MB RSS once settled (peak ${i.worker_rss_peak_mb} MB right after they parked; ${i.worker_rss_before_mb} MB before), after all the scenarios above.`,
      '',
    );
  }
  return lines;
}

function levelTable(r) {
  const levelled = r.scenarios.filter((s) => s.name.includes('@'));
  if (!levelled.length) return [];
  const modes = [...new Set(levelled.map((s) => s.name.split('@')[0]))];
  const levels = [...new Set(levelled.map((s) => s.level))].sort((a, b) => a - b);
  const lines = ['Transfers against concurrency (tps · p50 / p99 ms · CPU ms per transfer: API + worker + Temporal, i.e. all processes but MariaDB and the load generator / all metered processes, MariaDB and the load generator included):', '', `| mode | ${levels.map((l) => `${l} in flight`).join(' | ')} |`, `|---|${levels.map(() => '---:').join('|')}|`];
  for (const m of modes) {
    const cells = levels.map((l) => {
      const s = r.scenarios.find((x) => x.name === `${m}@${l}`);
      return s ? `${s.tps} · ${s.p50_ms} / ${s.p99_ms} · ${s.cpu_ms_per_op_no_db ?? '?'} / ${s.cpu_ms_per_op ?? '?'}` : '';
    });
    lines.push(`| ${m} | ${cells.join(' | ')} |`);
  }
  lines.push('', '![throughput and latency against concurrency](latest.svg)', '');
  return lines;
}

function targetsAndCpu(r) {
  const rowLatency = (n) => {
    const s = r.scenarios.find((x) => x.name === n);
    return s?.p99_ms != null ? `${n} (${s.p50_ms} / ${s.p99_ms})` : n;
  };
  const lines = ['Targets (issue 23, "Performance on a durable store"); rows: the results rows each reads, with their p50 / p99 ms:', '', '| target | value | target | met | persistence | rows (p50 / p99 ms) |', '|---|---:|---|---|---|---|'];
  for (const [k, t] of Object.entries(r.targets)) lines.push(`| ${k} | ${t.value ?? 'n/a'} | ${t.target} | ${t.met == null ? 'n/a' : t.met ? 'yes' : '**no**'} | ${t.persistence ?? ''} | ${(t.rows ?? []).map(rowLatency).join(', ')} |`);
  for (const [k, v] of Object.entries(r.ratios)) if (!(k in r.targets)) lines.push(`| ${k} (ratio) | ${v ?? 'n/a'} | | | | |`);
  const perOp = r.scenarios.filter((s) => s.cpu_ms_per_op != null && !s.name.startsWith('direct'));
  if (perOp.length) {
    const procs = ['api', 'api_batched', 'worker', 'temporal', 'supervisor', 'mariadb_a', 'mariadb_b', 'bench'];
    lines.push('', 'CPU ms per completed transfer, by process (supervisor: dev.mjs itself, dev rows only):', '', `| scenario | ${procs.join(' | ')} |`, `|---|${procs.map(() => '---:').join('|')}|`);
    for (const s of perOp) lines.push(`| ${s.name} | ${procs.map((p) => s.procs?.[p]?.cpu_ms_per_op ?? '').join(' | ')} |`);
  }
  return lines;
}

function auditLine(a) {
  const paths = a.paths ?? [];
  return [
    '',
    `Audit: ${a.ok ? 'passed' : '**FAILED**'} — transfers ${JSON.stringify(a.transfers)} (${a.cross_shard ?? 'n/a'} across shards), each row on its source's shard, ${a.barrier_rows} barrier rows (one per branch, on the branch's shard), ${a.ledger_entries} transfer ledger entries; ` +
      `money ${a.money.at_end === a.money.at_start ? 'conserved' : '**not conserved**'} over both shards (${a.money.by_shard_at_end.join(' + ')}), every ledger sums to its balance; orders ${JSON.stringify(a.orders)} with stock, payments and merchant credit matching; ` +
      `rejection paths: ${paths.filter((p) => p.ok).length}/${paths.length} as expected${a.problems.length ? `; ${a.problems.join('; ')}` : ''}.`,
    '',
  ];
}

/** latest.md; `sections`: the scenarios' own sections (their `markdown(result)`), after the per-level table. */
export function markdown(r, sections = []) {
  const lines = [...header(r), ...scenarioTable(r), ...checkoutAndInflight(r), ...levelTable(r)];
  for (const section of sections) lines.push(...section(r));
  lines.push(...targetsAndCpu(r), ...auditLine(r.audit));
  return `${lines.join('\n')}\n`;
}

/** Writes latest.json, runs/<time>[-label][-quick].json, latest.md and latest.svg; prints the Markdown. */
export function writeResults(root, result, sections) {
  const outDir = join(root, 'bench/results');
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  // --cluster: its own latest files (latest.* stay the dev server's).
  const latest = result.settings.temporal_store === 'cluster' ? 'cluster-latest' : 'latest';
  writeFileSync(join(outDir, `${latest}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const { label, quick } = { label: result.label, quick: result.settings.quick };
  writeFileSync(join(outDir, 'runs', `${stamp}${label ? `-${label.replace(/[^\w.-]+/g, '_')}` : ''}${quick ? '-quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const md = markdown(result, sections);
  writeFileSync(join(outDir, `${latest}.md`), md);
  const svg = chart(result);
  if (svg && latest === 'latest') writeFileSync(join(outDir, 'latest.svg'), svg);
  process.stdout.write(md);
  return stamp;
}
