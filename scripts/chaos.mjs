#!/usr/bin/env node
// `npm run chaos [-- --quick] [--keep] [--flows N] [--concurrency N] [--workers N]`: a self-contained chaos run on
// 127.0.0.1. Starts its own stack in a temporary directory (MariaDB, the Temporal dev server on a SQLite file, ≥ 2
// workers, the API), seeds accounts and products, drives a mixed load of transfers and orders through the HTTP API
// while it SIGKILLs workers and restarts MariaDB and Temporal, waits until every accepted flow is terminal, and audits
// the result from the database and the API (see scripts/chaos/audit.mjs). Writes chaos-report.json (temp dir and
// test/artifacts/), stops everything, prints one summary line last and exits non-zero on any violation.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { audit, snapshotTotals } from './chaos/audit.mjs';
import { PLANS, runFaults } from './chaos/faults.mjs';
import { Api } from './chaos/http.mjs';
import { Load, seed } from './chaos/load.mjs';
import { Recorder } from './chaos/recorder.mjs';
import { ChaosStack } from './chaos/stack.mjs';
import { ensureDeps } from './lib/deps.mjs';
import { log } from './lib/log.mjs';
import { cleanup, onCleanup, stopOnSignals } from './lib/procs.mjs';
import { loadSearchAttributes } from './lib/project.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    flows: { type: 'string' },
    concurrency: { type: 'string' },
    workers: { type: 'string' },
  },
});
const quick = args.quick;
const settings = {
  mode: quick ? 'quick' : 'full',
  targetFlows: Number(args.flows ?? (quick ? 300 : 2000)),
  concurrency: Number(args.concurrency ?? (quick ? 16 : 32)),
  workers: Number(args.workers ?? 2),
  plan: quick ? PLANS.quick : PLANS.full,
  gapMs: quick ? 15_000 : 18_000,
  firstAfterMs: 12_000,
  downMs: quick ? 3_000 : 5_000,
  pauseMs: 25_000,
  tailMs: 10_000,
  quiescenceBudgetMs: 60_000,
  quiescenceDeadlineMs: quick ? 4 * 60_000 : 6 * 60_000,
  approvalThreshold: 50_000,
  approvalTimeoutMs: 20_000,
  stepScheduleToCloseMs: 10 * 60_000,
};
if (settings.workers < 2) throw new Error('--workers must be at least 2 (one is killed at a time)');

stopOnSignals();
const rec = new Recorder();
const runId = Date.now().toString(36);
const work = mkdtempSync(join(tmpdir(), 'sagaflow-chaos-'));
chmodSync(work, 0o755); // the mysql system user must reach its datadir inside
let report = { settings, runId, work };
let stack;

function progressLine(load) {
  const s = rec.http.byStatus;
  const statuses = Object.entries(s).map(([k, n]) => `${k}:${n}`).join(' ');
  return `t=${rec.rel()}s flows=${load.accepted} ops=${load.stats.ops} approvals=${load.lifecycles.size} faults=${rec.faults.filter((f) => f.endedAt).length}/${settings.plan.length}${rec.faultActive ? ` [${[...rec.active]}]` : ''} http{${statuses}} violations=${rec.violations.length}`;
}

async function main() {
  ensureDeps(root);
  log.info(`chaos (${settings.mode}): ≥ ${settings.targetFlows} flows, faults ${settings.plan.join(', ')}; work dir ${work}`);
  stack = new ChaosStack({
    root,
    work,
    rec,
    workers: settings.workers,
    apiEnv: {
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      STEP_SCHEDULE_TO_CLOSE_MS: String(settings.stepScheduleToCloseMs),
      APPROVAL_THRESHOLD: String(settings.approvalThreshold),
      APPROVAL_TIMEOUT_MS: String(settings.approvalTimeoutMs),
    },
  });
  onCleanup(() => stack.stopAll());
  await stack.start(await loadSearchAttributes(root));
  const api = new Api(stack.base, rec);
  const seedData = await seed(api, rec);
  const initialTotals = await snapshotTotals(stack.databaseUrl);
  log.info(`chaos: initial totals ${JSON.stringify(initialTotals)}`);

  const load = new Load({ api, rec, seedData, concurrency: settings.concurrency, runId });
  const loadStarted = Date.now();
  rec.event('load-started', { concurrency: settings.concurrency });
  const ticker = setInterval(() => log.info(progressLine(load)), 10_000);
  const loadDone = load.run();
  await runFaults({ plan: settings.plan, stack, rec, load, target: settings.targetFlows, gapMs: settings.gapMs, firstAfterMs: settings.firstAfterMs, downMs: settings.downMs, pauseMs: settings.pauseMs });
  while (load.accepted < settings.targetFlows || Date.now() - rec.lastFaultEnd() < settings.tailMs) await sleep(250);
  load.stop();
  await loadDone;
  const loadEnded = Date.now();
  rec.event('load-stopped', { acceptedFlows: load.accepted, seconds: (loadEnded - loadStarted) / 1000 });

  const quiescentAt = await load.quiesce(rec.lastFaultEnd() + settings.quiescenceDeadlineMs);
  clearInterval(ticker);
  const lastFault = rec.lastFaultEnd();
  const quiescence = {
    lastFaultEndedAt: rec.rel(lastFault),
    loadEndedAt: rec.rel(loadEnded),
    quiescentAt: quiescentAt ? rec.rel(quiescentAt) : null,
    secondsAfterLastFault: quiescentAt ? Math.round((quiescentAt - lastFault) / 100) / 10 : null,
  };
  rec.event('quiescence', quiescence);
  if (!quiescentAt || quiescentAt - lastFault > settings.quiescenceBudgetMs) {
    rec.violation('slow-quiescence', { ...quiescence, budgetSeconds: settings.quiescenceBudgetMs / 1000 });
  }

  const summary = await audit({ databaseUrl: stack.databaseUrl, flows: load.flows, seed: seedData, initialTotals, rec, api, temporal: stack.temporal });
  const flows = [...load.flows.values()];
  const latencies = flows.filter((f) => f.terminalAt && !f.action).map((f) => f.terminalAt - f.acceptedAt).sort((a, b) => a - b);
  report = {
    ...report,
    finishedAt: new Date().toISOString(),
    seconds: rec.rel(),
    flows: {
      accepted: load.accepted,
      transfers: flows.filter((f) => f.type === 'transfer').length,
      orders: flows.filter((f) => f.type === 'order').length,
      byStatus: countBy(flows, (f) => `${f.type}:${f.status}`),
      ops: load.stats,
      terminalLatencyMs: latencies.length ? { p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)], max: latencies.at(-1) } : null,
    },
    quiescence,
    audit: summary,
    ...rec.toJSON(),
  };
  return load.accepted;
}

function countBy(xs, key) {
  const out = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
}

let flowsCount = 0;
try {
  flowsCount = await main();
} catch (err) {
  rec.violation('run-aborted', { error: String(err?.stack ?? err).slice(0, 800) });
  report = { ...report, ...rec.toJSON() };
}
const counts = { workerKills: rec.count('worker-kill'), dbRestarts: rec.count('db-restart'), temporalRestarts: rec.count('temporal-restart') };
report.counts = { flows: flowsCount, ...counts, violations: rec.violations.length };
report.violationsByKind = countBy(rec.violations, (x) => x.kind);
const reportPath = join(work, 'chaos-report.json');
writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
mkdirSync(join(root, 'test/artifacts'), { recursive: true });
copyFileSync(reportPath, join(root, 'test/artifacts/chaos-report.json'));
if (stack) await stack.stopAll().catch((err) => log.warn(`stopping the stack: ${err.message}`));
await cleanup();
if (!args.keep) {
  // Keep the logs and the report (small) for a look afterwards; drop the databases.
  for (const d of ['mariadb', 'temporal.sqlite', 'temporal.sqlite-wal', 'temporal.sqlite-shm', 'workflow-bundle.js']) rmSync(join(work, d), { recursive: true, force: true });
}
log.info(`chaos: report ${reportPath} (copied to test/artifacts/chaos-report.json); logs in ${join(work, 'logs')}`);
if (rec.violations.length) log.error(`violations by kind: ${JSON.stringify(report.violationsByKind)}`);
console.log(`chaos: ${flowsCount} flows, ${counts.workerKills} worker kills, ${counts.dbRestarts} db restarts, ${counts.temporalRestarts} temporal restarts, ${rec.violations.length} violations`);
process.exit(rec.violations.length ? 1 : 0);
