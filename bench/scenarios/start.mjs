// start: POST /v1/transfers without wait vs a bare client.workflow.start from this process, one at a time, interleaved
// and paced (plus, as diagnostics, a start with the API's options and GET /healthz). Sequential and interleaved so all
// see the same background load: the flows they start run meanwhile. POST carries an Idempotency-Key: production
// refuses a flow-starting POST without one (0.1 also measured a POST without a key, which 0.2 no longer accepts).
// Bare = client.workflow.start of the same workflow with the same input, no API, no database, no search attributes or
// summary.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarize } from '../lib/stats.mjs';

/** One round: POST, bare start, start with the API's options, GET /healthz; each latency appended to `lat`. */
async function sampleOnce(ctx, lat, sa) {
  const { S, http, client, flowsQueue, transferBody, idOnShard, shardOf, SHARDS, TIMEOUTS, topology } = ctx;
  const input = (b) => ({ id: idOnShard(shardOf(b.fromAccountId, SHARDS)), ...b, memo: null, timeouts: TIMEOUTS, topology }); // on the source's shard, as the API draws it
  // Paced (~10 starts/s in all, well below what the worker finishes per second) so the flows started here do not
  // pile up into a backlog that would saturate the CPU and measure contention instead of the start path.
  await sleep(S.startGapMs);
  let s = performance.now();
  const r1 = await http.post('/v1/transfers', transferBody(), { 'idempotency-key': randomUUID() });
  if (r1.status !== 202) throw new Error(`POST without wait answered ${r1.status}: ${r1.text.slice(0, 200)}`);
  lat.post.push(performance.now() - s);
  await sleep(S.startGapMs);
  const x = input(transferBody());
  s = performance.now();
  await client.workflow.start('transferMoney', { taskQueue: flowsQueue, workflowId: `transfer-${x.id}`, args: [x] });
  lat.bare.push(performance.now() - s);
  // Diagnostics: the start with the API's options (search attributes, summary), and the HTTP floor.
  await sleep(S.startGapMs);
  const y = input(transferBody());
  s = performance.now();
  await client.workflow.start('transferMoney', {
    taskQueue: flowsQueue,
    workflowId: `transfer-${y.id}`,
    args: [y],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: sa('TransferId', 'KEYWORD_LIST'), value: [y.id] },
      { key: sa('CustomerId'), value: y.fromAccountId },
      { key: sa('FlowStatus'), value: 'RUNNING' },
    ],
    staticSummary: `Transfer ${y.amount} ${y.fromAccountId} → ${y.toAccountId}`,
  });
  lat.full.push(performance.now() - s);
  s = performance.now();
  const h = await http.get('/healthz');
  if (h.status !== 200) throw new Error(`GET /healthz answered ${h.status}`);
  lat.floor.push(performance.now() - s);
}

export default {
  name: 'start',
  description: 'POST /v1/transfers without wait vs a bare client.workflow.start, one at a time, interleaved and paced\n(plus a start with the API\'s options and GET /healthz)',
  options: { 'start-samples': { type: 'string', help: 'N: rounds (200; quick 40)' } },
  settings: (opt, quick) => ({ startSamples: Number(opt['start-samples'] ?? (quick ? 40 : 200)), startGapMs: 100 }),
  async run(ctx) {
    const { S, measured, record } = ctx;
    const lat = { post: [], bare: [], full: [], floor: [] };
    const { defineSearchAttributeKey } = await import('@temporalio/common');
    const sa = (n, type = 'KEYWORD') => defineSearchAttributeKey(n, type);
    const { usage } = await measured(async (hooks) => {
      hooks.start();
      for (let i = 0; i < S.startSamples; i++) await sampleOnce(ctx, lat, sa);
      hooks.end();
    });
    const n = S.startSamples * 3;
    const rate = (l) => S.startSamples / (l.reduce((a, b) => a + b, 0) / 1000);
    record('start-post', { tps: rate(lat.post), lat: summarize(lat.post), usage, extra: { measure: 'POST /v1/transfers with a new Idempotency-Key (required in production), no Prefer → 202; one at a time, paced (tps = 1000 / mean ms)', share_note: `cpu/rss cover all ${n} starts and the flows they started` } });
    record('start-client-api-options', { tps: rate(lat.full), lat: summarize(lat.full), usage, extra: { measure: 'client.workflow.start with the options the API sets (search attributes, summary, id policies); one at a time, paced' } });
    record('http-floor', { tps: rate(lat.floor), lat: summarize(lat.floor), usage, extra: { measure: 'GET /healthz: the HTTP + middleware floor of the API' } });
    record('start-bare', { tps: rate(lat.bare), lat: summarize(lat.bare), usage, extra: { measure: 'client.workflow.start from the bench process; one at a time, paced' } });
  },
};
