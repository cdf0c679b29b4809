// dev: batched's closed loop against a real `npm run dev` (../lib/dev-stack.mjs: its own MariaDB servers, its Temporal
// dev server on its SQLite file, its API and worker exactly as dev.mjs starts them, with their defaults: development
// mode, info logs, the project's dynamic config), not the bench's tuned stack. Started at the first level, stopped
// after the last. Its accounts are opened through its API and paired as the bench pairs its own (--cross across
// shards). Its transfers are not in the bench's databases: the shared audit does not count them; this scenario checks,
// through its API, that a sample of those answered 200 COMPLETED read COMPLETED and that the money of its accounts is
// conserved, and hands what it found to the audit.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../../scripts/lib/log.mjs';
import { devServerDynamicConfig, SQLITE_PRAGMAS } from '../../scripts/lib/temporal-server.mjs';
import { startDev } from '../lib/dev-stack.mjs';
import { INITIAL } from '../lib/fixtures.mjs';
import { httpClient } from '../lib/load.mjs';
import { measurer } from '../lib/measure.mjs';
import { accountsByShard, pairPicker } from '../lib/pairs.mjs';
import { closedTransfers } from '../lib/transfer-load.mjs';

// Read before the bench's stack adds its own dynamic config: what dev.mjs's Temporal dev server on a file gets.
const DEV_TEMPORAL = { store: 'file', sqlite_pragmas: [...SQLITE_PRAGMAS], dynamic_config: devServerDynamicConfig({ file: true }) };
const SAMPLE = 50;

/** GET/POST through the dev API, tried again while it answers 429 or 503 (its own rate limit, a restart). */
async function call(http, method, path, body) {
  for (let i = 0; ; i++) {
    const r = method === 'GET' ? await http.get(path) : await http.post(path, body, { 'idempotency-key': randomUUID() });
    if (r.status < 400) return r.body?.data;
    if ((r.status !== 429 && r.status !== 503) || i >= 20) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
    await sleep(500);
  }
}

/** `fn` over `items`, `n` at a time. */
async function eachLimit(items, n, fn) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/** npm run dev up, S.accounts USD accounts opened through it, paired as the bench pairs its own, warmed. */
async function devUp(ctx) {
  const { root, opt, S, shardOf, SHARDS, startedAt } = ctx;
  const keepLogsIn = opt['keep-logs'] ? join(root, 'bench/results/logs', startedAt.replace(/[:.]/g, '-'), 'dev') : undefined;
  const dev = await startDev({ root, brokerUrl: ctx.stack.brokerEnv.BROKER_URL, keepLogsIn });
  const http = httpClient(dev.base, { headers: dev.headers });
  const opened = await eachLimit(Array.from({ length: S.accounts }, (_, i) => i), 8, (i) => call(http, 'POST', '/v1/accounts', { owner: `bench-dev-${i}`, currency: 'USD', initialBalance: INITIAL }));
  const accounts = accountsByShard(opened.map((a) => a.id), SHARDS, shardOf);
  const pair = pairPicker(accounts, S.cross);
  const transferBody = () => {
    const [fromAccountId, toAccountId] = pair();
    return { fromAccountId, toAccountId, amount: 1 + Math.floor(Math.random() * 1000), currency: 'USD' };
  };
  await Promise.all(Array.from({ length: 20 }, () => http.post('/v1/transfers', transferBody(), { prefer: 'wait=10', 'idempotency-key': randomUUID() })));
  log.info(`bench: dev: ${accounts.ids.length} accounts opened through its API (${accounts.byShard.map((l) => l.length).join(' / ')} by shard)`);
  return { dev, http, accounts, transferBody, completed: [], expected: { httpCompleted: 0 }, problems: [] };
}

/** Through its API: a sample of the transfers answered 200 COMPLETED read COMPLETED; its accounts hold what they opened with. */
async function check(run) {
  const { http, accounts, completed, problems } = run;
  const sample = completed.length <= SAMPLE ? completed : Array.from({ length: SAMPLE }, (_, i) => completed[Math.floor((i * completed.length) / SAMPLE)]);
  const statuses = await eachLimit(sample, 8, async (id) => (await call(http, 'GET', `/v1/transfers/${id}`))?.status);
  const notCompleted = sample.filter((_, i) => statuses[i] !== 'COMPLETED');
  if (notCompleted.length) problems.push(`dev: ${notCompleted.length} of ${sample.length} transfers answered 200 COMPLETED do not read COMPLETED (${notCompleted.slice(0, 3).join(', ')})`);
  const opened = accounts.ids.length * INITIAL;
  let total;
  for (let tries = 0; tries < 30; tries++) {
    const list = await eachLimit(accounts.ids, 8, (id) => call(http, 'GET', `/v1/accounts/${id}`));
    total = list.reduce((a, x) => a + x.balance + x.frozen, 0);
    if (total === opened) break;
    await sleep(2000); // a transfer that outlived its wait is still moving money
  }
  if (total !== opened) problems.push(`dev: money not conserved over its ${accounts.ids.length} accounts: ${total} != ${opened} opened`);
  return { sampled: sample.length, completed_on_get: sample.length - notCompleted.length, money_opened: opened, money_at_end: total };
}

export default {
  name: 'dev',
  description: "batched's closed loop against a real `npm run dev` (its own MariaDB servers, Temporal dev server on its SQLite file,\nAPI and worker with dev.mjs's settings), started once on free ports in a temporary SAGAFLOW_DATA_DIR",
  perLevel: true,
  async run(ctx, level) {
    if (!ctx.devRun) {
      try {
        ctx.devRun = await devUp(ctx);
      } catch (err) {
        // The other scenarios still run; the audit reports it.
        log.error(`bench: dev: ${err.message}`);
        ctx.devRun = { failed: true, problems: [`dev: npm run dev did not come up: ${err.message.split('\n')[0]}`] };
      }
    }
    const run = ctx.devRun;
    if (run.failed) return;
    const dev = { ...ctx, transferBody: run.transferBody, expected: run.expected, measured: measurer(run.dev.groups) };
    const onAnswer = (r) => r.status === 200 && r.body?.data?.status === 'COMPLETED' && run.completed.push(r.body.data.id);
    const more = { stack: 'npm run dev (scripts/dev.mjs)', temporal: DEV_TEMPORAL, accounts_by_shard: run.accounts.byShard.map((l) => l.length), groups: run.dev.groups() };
    const row = await closedTransfers(dev, `dev@${level}`, { concurrency: level, to: run.http, mode: 'batched', onAnswer, more });
    if (level !== ctx.S.levels.at(-1)) return;
    try {
      row.check = await check(run);
      log.info(`bench: dev: ${JSON.stringify(row.check)}`);
    } catch (err) {
      run.problems.push(`dev: its check failed: ${err.message}`);
    } finally {
      run.http.close();
      await run.dev.stop();
    }
  },
  /** What check() found (the shared audit does not see this scenario's transfers). */
  async audit(ctx) {
    return ctx.devRun?.problems ?? [];
  },
};
