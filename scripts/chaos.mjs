#!/usr/bin/env node
// `npm run chaos [-- --quick] [--keep] [--flows N] [--load-seconds N] [--concurrency N] [--workers N|flows=2,ledger=2,…]
// [--plan fault[:target],…] [--transfer-mode batched|single] [--dtm]`: a
// self-contained chaos run on 127.0.0.1. Starts its own stack in a temporary directory (MariaDB servers A and B with
// the standard database layout, the Temporal dev server on a SQLite file, worker processes split per unit — flows,
// ledger, inventory, orders, loyalty — and the API), seeds accounts on both ledger shards and products, drives a mixed
// load of transfers (mostly across shards) and orders (orders on A, inventory and loyalty on B, payer and merchant on
// their shards) through the HTTP API while it SIGKILLs and SIGSTOPs workers, restarts one MariaDB server at a time
// (A and B in turn) and both at once, stops every worker of one domain for 30 s, restarts Temporal and the RabbitMQ
// node, SIGKILLs a domain worker while its relay has a backlog, and injects poison events for loyalty; waits until
// every accepted flow is terminal, and audits the result per domain database and across shards, and from the API (see
// scripts/chaos/audit.mjs). Writes chaos-report.json (temp dir and test/artifacts/), stops everything, prints a short
// summary (flows per type, faults with timings, violations) with one summary line last, and exits non-zero on any
// violation. `--ha`: the same on the real thing (scripts/chaos/ha.mjs): a Temporal cluster of two nodes on PostgreSQL,
// two API replicas behind HAProxy, supervision; its faults SIGKILL a Temporal node, an API replica and a MariaDB server
// (supervision brings each back) and restart PostgreSQL; the client retries 502/504/lost answers with the same key, and
// an answer still 5xx after the retries is a violation (scripts/chaos/invariants/unrecovered-5xx.mjs).
// `--dtm`: adds a DTM-protocol load beside the flows (scripts/chaos/dtm-load.mjs: sagas sequential and concurrent,
// TCC, 2-phase messages with back-checks, XA, some failing on purpose) against /api/dtmsvr, a dtm worker unit, and a
// participant with two banks on servers A and B (scripts/chaos/dtm-bank.ts); the default plan becomes PLANS.dtm (dtm and
// flows workers killed, API and Temporal restarted, server A restarted); the audit adds invariants/dtm-*.mjs (every gid
// terminal, the banks' money conserved and moved per gid as its outcome says, failed sagas compensated, no try left
// without confirm/cancel, no message left prepared). `--quick` runs the DTM load too, with the quick plan (`--no-dtm`
// leaves it out).
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { audit, snapshotTotals } from './chaos/audit.mjs';
import { parsePlan, PLANS, runFaults } from './chaos/faults.mjs';
import { Api } from './chaos/http.mjs';
import { Load, seed } from './chaos/load.mjs';
import { DtmLoad, startDtmBank } from './chaos/dtm-load.mjs';
import { Recorder } from './chaos/recorder.mjs';
import { HaChaosStack } from './chaos/ha.mjs';
import { checkUnrecovered } from './chaos/invariants/unrecovered-5xx.mjs';
import { ChaosStack, parseWorkerSpec } from './chaos/stack.mjs';
import { ensureDeps } from './lib/deps.mjs';
import { log } from './lib/log.mjs';
import { cleanup, onCleanup, stopOnSignals } from './lib/procs.mjs';
import { loadSearchAttributes } from './lib/project.mjs';
import { ensureNodeRuntime } from './lib/node-runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await ensureNodeRuntime(); // Node 24 LTS, whatever started this script
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    ha: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    flows: { type: 'string' },
    concurrency: { type: 'string' },
    workers: { type: 'string' },
    'load-seconds': { type: 'string' },
    plan: { type: 'string' },
    'transfer-mode': { type: 'string' },
    dtm: { type: 'boolean' },
  },
  allowNegative: true, // --no-dtm
});
const quick = args.quick;
// The DTM load runs with --dtm, and in every --quick run (not --ha) unless --no-dtm.
const withDtm = args.dtm ?? (quick && !args.ha);
const settings = {
  mode: quick ? 'quick' : 'full',
  // Transfers in batched mode (the default) unless --transfer-mode single.
  transferMode: args['transfer-mode'] ?? 'batched',
  targetFlows: Number(args.flows ?? (quick ? 300 : 1000)),
  // The load stops at the target or at this budget (whichever first), once every fault is over: the default run ends
  // within about 10 minutes on a 2-core machine shared with other work, with fewer flows when the machine is slow.
  loadBudgetMs: Number(args['load-seconds'] ?? (quick ? 200 : 330)) * 1000,
  concurrency: Number(args.concurrency ?? (quick ? 16 : 32)),
  workers: parseWorkerSpec(args.workers, { dtm: withDtm }),
  dtm: withDtm,
  dtmConcurrency: 6,
  ha: args.ha,
  plan: args.plan ? parsePlan(args.plan) : args.ha ? PLANS.ha : args.dtm ? PLANS.dtm : quick ? PLANS.quick : PLANS.full,
  gapMs: 10_000,
  firstAfterMs: 12_000,
  downMs: quick ? 3_000 : 5_000,
  pauseMs: 25_000,
  outageMs: 30_000,
  tailMs: 10_000,
  quiescenceBudgetMs: 60_000,
  quiescenceDeadlineMs: 3 * 60_000,
  approvalThreshold: 50_000,
  approvalTimeoutMs: 20_000,
  stepScheduleToCloseMs: 10 * 60_000,
  merchantSubAccounts: 16,
};

stopOnSignals();
const rec = new Recorder();
const runId = Date.now().toString(36);
const work = mkdtempSync(join(tmpdir(), 'sagaflow-chaos-'));
chmodSync(work, 0o755); // the mysql system user must reach its datadir inside
let report = { settings, runId, work };
let stack;
let dtmLoad = null;

function progressLine(load) {
  const s = rec.http.byStatus;
  const statuses = Object.entries(s).map(([k, n]) => `${k}:${n}`).join(' ');
  return `t=${rec.rel()}s flows=${load.accepted}${dtmLoad ? ` dtm-gids=${dtmLoad.gids.size}` : ''} ops=${load.stats.ops} approvals=${load.lifecycles.size} faults=${rec.faults.filter((f) => f.endedAt).length}/${settings.plan.length}${rec.faultActive ? ` [${[...rec.active]}]` : ''} http{${statuses}} violations=${rec.violations.length}`;
}

/** The stack, seeded; the money it holds at the start; the poison injected for loyalty's consumer. */
async function startSeeded() {
  stack = new (settings.ha ? HaChaosStack : ChaosStack)({
    root,
    work,
    rec,
    workers: settings.workers,
    merchantSubAccounts: settings.merchantSubAccounts,
    apiEnv: {
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      STEP_SCHEDULE_TO_CLOSE_MS: String(settings.stepScheduleToCloseMs),
      APPROVAL_THRESHOLD: String(settings.approvalThreshold),
      APPROVAL_TIMEOUT_MS: String(settings.approvalTimeoutMs),
      TRANSFER_MODE: settings.transferMode,
    },
  });
  onCleanup(() => stack.stopAll());
  await stack.start(await loadSearchAttributes(root));
  const api = new Api(stack.base, rec, { loadBalanced: settings.ha });
  const seedData = await seed(api, rec, { shardOf: stack.shardOf, shards: stack.ledgerShards, merchantOf: stack.merchantOf });
  const initialTotals = await snapshotTotals(stack.databaseUrls().ledger);
  log.info(`chaos: initial totals ${JSON.stringify(initialTotals)}`);
  // Poison for loyalty's consumer: malformed order.confirmed events, straight onto the exchange. The audit expects them,
  // and nothing else, in the dead-letter table.
  const poison = await stack.injectPoison(3);
  rec.event('poison-injected', { eventIds: poison });
  if (settings.dtm) {
    const bank = await startDtmBank({ root, stack });
    dtmLoad = new DtmLoad({ base: stack.base, bank, rec, concurrency: settings.dtmConcurrency });
    rec.event('dtm-participant-started', { url: bank.url, initialTotal: bank.initialTotal });
  }
  return { api, seedData, initialTotals, poison };
}

/** The load, with the fault plan run alongside, until the flow target or the budget (and the tail after the last fault). */
async function driveLoad(load) {
  const loadStarted = Date.now();
  rec.event('load-started', { concurrency: settings.concurrency });
  const loadDone = load.run();
  const dtmDone = dtmLoad?.run();
  await runFaults({ plan: settings.plan, stack, rec, load, target: settings.targetFlows, budgetMs: settings.loadBudgetMs, gapMs: settings.gapMs, firstAfterMs: settings.firstAfterMs, downMs: settings.downMs, pauseMs: settings.pauseMs, outageMs: settings.outageMs });
  const withinBudget = () => Date.now() - loadStarted < settings.loadBudgetMs;
  while ((load.accepted < settings.targetFlows && withinBudget()) || Date.now() - rec.lastFaultEnd() < settings.tailMs) await sleep(250);
  if (load.accepted < settings.targetFlows) rec.event('flow-target-missed', { accepted: load.accepted, target: settings.targetFlows, budgetSeconds: settings.loadBudgetMs / 1000 });
  load.stop();
  dtmLoad?.stop();
  await loadDone;
  await dtmDone;
  const loadEnded = Date.now();
  rec.event('load-stopped', { acceptedFlows: load.accepted, seconds: (loadEnded - loadStarted) / 1000 });
  return loadEnded;
}

/** Every accepted flow terminal, within the quiescence budget after the last fault. */
async function awaitQuiescence(load, loadEnded) {
  const flowsQuiescentAt = await load.quiesce(rec.lastFaultEnd() + settings.quiescenceDeadlineMs);
  const dtmQuiescentAt = dtmLoad ? await dtmLoad.quiesce(rec.lastFaultEnd() + settings.quiescenceDeadlineMs) : flowsQuiescentAt;
  const quiescentAt = flowsQuiescentAt && dtmQuiescentAt && Math.max(flowsQuiescentAt, dtmQuiescentAt);
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
  return quiescence;
}

/** Events are eventual: a bounded time for the relays and consumers to drain (outboxes empty, poison dead-lettered). */
async function drainEvents(poison) {
  const eventsBy = Date.now() + 90_000;
  let drained = false;
  while (!drained && Date.now() < eventsBy) {
    const backlog = await stack.outboxBacklog().catch(() => ({ unknown: 1 }));
    drained = Object.values(backlog).every((n) => n === 0) && (await stack.deadLetterCount()) >= poison.length;
    if (!drained) await sleep(1_000);
  }
  // Then the last consumer effects (points.awarded of the last orders) land: a few seconds more for the loyalty queue.
  await sleep(5_000);
  rec.event('events-drained', { drained, at: rec.rel() });
}

/** The report's flows section: counts per type and status, ops, terminal latency of flows without an action. */
function flowsSection(load) {
  const flows = [...load.flows.values()];
  const latencies = flows.filter((f) => f.terminalAt && !f.action).map((f) => f.terminalAt - f.acceptedAt).sort((a, b) => a - b);
  return {
    accepted: load.accepted,
    transfers: flows.filter((f) => f.type === 'transfer').length,
    orders: flows.filter((f) => f.type === 'order').length,
    byStatus: countBy(flows, (f) => `${f.type}:${f.status}`),
    ops: load.stats,
    terminalLatencyMs: latencies.length ? { p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)], max: latencies.at(-1) } : null,
  };
}

async function main() {
  ensureDeps(root);
  log.info(`chaos (${settings.mode}): up to ${settings.targetFlows} flows or ${settings.loadBudgetMs / 1000} s of load (then until the last fault is over), faults ${settings.plan.join(', ')}; work dir ${work}`);
  const { api, seedData, initialTotals, poison } = await startSeeded();
  const load = new Load({ api, rec, seedData, concurrency: settings.concurrency, runId });
  const ticker = setInterval(() => log.info(progressLine(load)), 10_000);
  const loadEnded = await driveLoad(load);
  const quiescence = await awaitQuiescence(load, loadEnded);
  clearInterval(ticker);
  await drainEvents(poison);
  if (settings.ha) checkUnrecovered({ rec, flows: load.flows });
  const urls = { ...stack.databaseUrls(), ...(dtmLoad ? { dtm: dtmLoad.auditInput().urls } : {}) };
  const summary = await audit({ urls, shardOf: stack.shardOf, flows: load.flows, seed: seedData, initialTotals, rec, api, temporal: stack.temporal, poison, dtm: dtmLoad?.auditInput() });
  const dtm = dtmLoad ? await dtmLoad.summary() : undefined;
  report = { ...report, finishedAt: new Date().toISOString(), seconds: rec.rel(), flows: flowsSection(load), dtm, quiescence, audit: summary, ...rec.toJSON() };
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
const counts = {
  workerKills: rec.count('worker-kill'),
  workerPauses: rec.count('worker-pause'),
  serverRestarts: rec.count('db-server-restart'),
  dbRestarts: rec.count('db-restart'),
  domainOutages: rec.count('domain-outage'),
  temporalRestarts: rec.count('temporal-restart'),
  brokerRestarts: rec.count('broker-restart'),
  relayKills: rec.count('relay-kill'),
  apiRestarts: rec.count('api-restart'),
  dtmGids: dtmLoad?.gids.size ?? 0,
  ...(settings.ha ? { temporalNodeKills: rec.count('temporal-node-kill'), apiKills: rec.count('api-kill'), mariadbKills: rec.count('mariadb-kill'), postgresRestarts: rec.count('postgres-restart'), recovered5xx: rec.recovered5xx ?? 0 } : {}),
};
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
  for (const d of ['mariadb-a', 'mariadb-b', 'mariadb-a-tmp', 'mariadb-b-tmp', 'postgresql', 'temporal.sqlite', 'temporal.sqlite-wal', 'temporal.sqlite-shm', 'workflow-bundle.js', 'rabbitmq']) rmSync(join(work, d), { recursive: true, force: true });
}
log.info(`chaos: report ${reportPath} (copied to test/artifacts/chaos-report.json); logs in ${join(work, 'logs')}`);
console.log(summaryText(report));
if (rec.violations.length) log.error(`violations by kind: ${JSON.stringify(report.violationsByKind)}`);
console.log(
  `chaos: ${flowsCount} flows, ${counts.workerKills} worker kills, ${counts.workerPauses} worker pauses, ${counts.serverRestarts} single-server restarts, ` +
    `${counts.dbRestarts} both-server restarts, ${counts.domainOutages} domain outages, ${counts.temporalRestarts} temporal restarts, ${counts.brokerRestarts} broker restarts, ${counts.relayKills} relay kills, ` +
      (settings.ha ? `${counts.temporalNodeKills} temporal node kills, ${counts.apiKills} api kills, ${counts.mariadbKills} mariadb kills, ${counts.postgresRestarts} postgres restarts, ${counts.recovered5xx} 5xx recovered by retrying, ` : '') +
      (settings.dtm ? `${counts.dtmGids} DTM gids, ${counts.apiRestarts} api restarts, ` : '') +
      `${rec.violations.length} violations`,
);
process.exit(rec.violations.length ? 1 : 0);

/** The human summary printed before the last line: flows per type, every fault with its timings, the violations. */
function summaryText(r) {
  const out = [`chaos summary (${r.settings.mode}, transfers ${r.settings.transferMode ?? 'batched'}, ${r.seconds ?? '?'} s, run ${r.runId}):`];
  if (r.flows) {
    for (const type of ['transfer', 'order']) {
      const statuses = Object.entries(r.flows.byStatus).filter(([k]) => k.startsWith(`${type}:`));
      const started = statuses.reduce((n, [, c]) => n + c, 0);
      const finished = statuses.filter(([k]) => !k.endsWith(':null') && !/:(RUNNING|PENDING|AWAITING_APPROVAL)$/.test(k)).reduce((n, [, c]) => n + c, 0);
      out.push(`  ${type}s: ${started} started, ${finished} finished (${statuses.map(([k, c]) => `${k.slice(type.length + 1)} ${c}`).join(', ')})`);
    }
    if (r.dtm) {
      out.push(`  dtm: ${r.dtm.gids} gids (${Object.entries(r.dtm.byType).map(([k, n]) => `${k} ${n}`).join(', ')})`);
      out.push(`    outcomes: ${Object.entries(r.dtm.outcomes).map(([k, n]) => `${k} ${n}`).join(', ')}`);
      if (Object.keys(r.dtm.tccProblems ?? {}).length) out.push(`    aborted by the client after: ${JSON.stringify(r.dtm.tccProblems)}`);
      if (r.dtm.participant) out.push(`    participant: ${JSON.stringify(r.dtm.participant)}`);
    }
    const l = r.flows.terminalLatencyMs;
    if (l) out.push(`  terminal latency ms: p50 ${l.p50}, p99 ${l.p99}, max ${l.max}; quiescent ${r.quiescence?.secondsAfterLastFault ?? '?'} s after the last fault`);
  }
  out.push(`  faults (${(r.faults ?? []).length}):`);
  for (const f of r.faults ?? []) {
    const what = [f.target && `target ${f.target}`, f.unit && `unit ${f.unit}`, f.killed && `killed ${f.killed}`, f.paused && `paused ${f.paused}`, f.stopped && `stopped ${f.stopped.join('+')}`]
      .filter(Boolean)
      .join(', ');
    const done = f.finishedDuringFault ? `; finished meanwhile: transfers ${f.finishedDuringFault.transfer}, orders ${f.finishedDuringFault.order}` : '';
    out.push(`    #${f.n} ${f.type}${what ? ` (${what})` : ''}: t=${f.startedAt}→${f.endedAt ?? '?'} s, ${f.seconds ?? '?'} s${done}${f.error ? `; ERROR ${f.error}` : ''}`);
  }
  const kinds = Object.entries(r.violationsByKind ?? {});
  out.push(`  violations: ${(r.violations ?? []).length}${kinds.length ? ` (${kinds.map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);
  return out.join('\n');
}
