// Measuring a scenario: the process meter around its measurement window only (`measured`, `windowHooks`), and one
// row of the results per measurement (`record`: throughput, latency, CPU and RSS per process group, CPU per operation),
// logged as it lands.
import { log } from '../../scripts/lib/log.mjs';
import { meter } from './proc.mjs';
import { round } from './stats.mjs';

/** Runs a load with the process meter (over `groups()`) around its measurement window only. */
export function measurer(groups) {
  return async function measured(fn) {
    let m;
    let usage;
    const hooks = {
      start: () => (m ??= meter(groups())),
      end: () => (usage ??= m?.stop()),
    };
    const r = await fn(hooks);
    hooks.start();
    hooks.end(); // the load ended before its window did (e.g. every request failed fast)
    return { r, usage };
  };
}

/** Starts and ends the meter after `warmupMs` and `warmupMs + durationMs`; returns the cancel of both timers. */
export const windowHooks = (hooks, warmupMs, durationMs) => {
  const a = setTimeout(hooks.start, warmupMs);
  const b = setTimeout(hooks.end, warmupMs + durationMs);
  return () => (clearTimeout(a), clearTimeout(b));
};

/** Per process group: CPU s and RSS MB (MariaDB servers also summed), and CPU ms per completed operation. */
function perProcess(groupsUsage, ops) {
  const procs = Object.fromEntries(Object.entries(groupsUsage).map(([k, v]) => [k, { cpu_s: round(v.cpu_s), rss_mb: round(v.rss_mb, 1) }]));
  const dbs = Object.entries(groupsUsage).filter(([k]) => k.startsWith('mariadb_'));
  if (dbs.length) procs.mariadb = { cpu_s: round(dbs.reduce((a, [, v]) => a + v.cpu_s, 0)), rss_mb: round(dbs.reduce((a, [, v]) => a + v.rss_mb, 0), 1), summed: dbs.map(([k]) => k) };
  // CPU milliseconds per completed operation, per process (what one transfer costs each of them).
  if (ops > 0) for (const v of Object.values(procs)) v.cpu_ms_per_op = round((v.cpu_s * 1000) / ops, 1);
  return procs;
}

/** `record(name, { tps, lat, usage, appCpu, appRss, extra })` appends one row to `scenarios` and logs it. */
export function recorder(scenarios, benchStart) {
  return function record(name, { tps, lat, usage, appCpu, appRss, extra = {} }) {
    const { machine: cpuMachine, ...groupsUsage } = usage;
    const ops = extra.ops ?? 0;
    const procs = perProcess(groupsUsage, ops);
    const machineCpu = cpuMachine && Object.fromEntries(Object.entries(cpuMachine).map(([k, v]) => [k, round(v)]));
    const cpu = appCpu ?? (usage.api?.cpu_s ?? 0) + (usage.api_batched?.cpu_s ?? 0) + (usage.worker?.cpu_s ?? 0);
    const rss = appRss ?? Math.max(usage.api?.rss_mb ?? 0, usage.api_batched?.rss_mb ?? 0) + (usage.worker?.rss_mb ?? 0);
    const s = {
      name,
      mode: extra.mode,
      level: extra.concurrency,
      // Every metered process, MariaDB servers and the load generator included (`mariadb` is their sum, not a process).
      cpu_ms_per_op: ops > 0 ? round((Object.entries(procs).filter(([k]) => k !== 'mariadb').reduce((a, [, v]) => a + v.cpu_s, 0) * 1000) / ops, 1) : undefined,
      // The issue's CPU target: the API(s), the worker and Temporal (and dev.mjs's supervisor), not MariaDB nor the load generator.
      cpu_ms_per_op_no_db: ops > 0 ? round((Object.entries(procs).filter(([k]) => !k.startsWith('mariadb') && k !== 'bench').reduce((a, [, v]) => a + v.cpu_s, 0) * 1000) / ops, 1) : undefined,
      tps: round(tps, 1),
      p50_ms: lat.p50_ms,
      p95_ms: lat.p95_ms,
      p99_ms: lat.p99_ms,
      cpu_s: round(cpu),
      rss_mb: round(rss, 1),
      samples: lat.n,
      procs,
      machine_cpu: machineCpu,
      ...extra,
    };
    scenarios.push(s);
    log.info(`bench: [${((Date.now() - benchStart) / 1000).toFixed(0)} s] ${name}: ${s.tps} tps, p50 ${s.p50_ms} ms, p95 ${s.p95_ms} ms, p99 ${s.p99_ms} ms, cpu ${s.cpu_s} s, rss ${s.rss_mb} MB, machine idle/other/steal ${machineCpu ? `${machineCpu.idle_s}/${machineCpu.other_s}/${machineCpu.steal_s}` : '?'} s ${JSON.stringify(extra)}`);
    return s;
  };
}
