// The dtm-saga scenario (only when named: --scenarios direct-db,dtm-saga): DTM's own bench shape through sagaflow's
// DTM-protocol coordinator — sagas of two branches (transfer-out, transfer-in), each branch one UPDATE behind DTM's
// barrier in a TypeScript participant (bench/scenarios/dtm-participant.ts, the participant kit), submitted with
// wait_result by `concurrency` callers (64), closed loop. Reported beside direct-db at the same level: DTM measures its
// own saga + barrier at 0.41–0.42 × its raw SQL on this class of machine, so parity is a ratio >= 0.42.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { freePort, start, waitFor } from '../../scripts/lib/procs.mjs';
import { closedLoop } from '../lib/load.mjs';
import { windowHooks } from '../lib/measure.mjs';
import { summarize } from '../lib/stats.mjs';

export const DTM_SAGA = 'dtm-saga';
const ACCOUNTS = 10_000;

/** What the worker and API need for this scenario (production refuses branch URLs outside the allow list). */
export const dtmSagaEnv = { DTM_BRANCH_URL_ALLOW: 'http://127.0.0.1:*' };

/**
 * Runs the scenario and records it as dtm-saga@<concurrency>. `ctx`: the bench's http client (with its API key),
 * process starter, paths, settings (S) and its measured/windowHooks/record helpers.
 */
export async function dtmSagaScenario({ root, http, start, waitFor, freePort, logDir, tsx, serverUrl, S, measured, windowHooks, record, concurrency = 64 }) {
  const port = await freePort();
  const participant = start('dtm-participant', tsx, [join(root, 'bench/scenarios/dtm-participant.ts'), JSON.stringify({ port, serverUrl, database: 'sagaflow_bench_dtm', accounts: ACCOUNTS })], {
    cwd: root,
    logFile: join(logDir, 'dtm-participant.log'),
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('dtm participant', async () => (await fetch(`${base}/ready`)).ok, { entry: participant, timeoutMs: 90_000 });

  const outcomes = {};
  const op = async () => {
    const from = Math.floor(Math.random() * ACCOUNTS);
    const to = (from + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS;
    const r = await http.post('/api/dtmsvr/submit', {
      gid: randomUUID().replace(/-/g, ''),
      trans_type: 'saga',
      wait_result: true,
      steps: [
        { action: `${base}/transfer-out`, compensate: `${base}/transfer-out-compensate` },
        { action: `${base}/transfer-in`, compensate: `${base}/transfer-in-compensate` },
      ],
      payloads: [JSON.stringify({ account: from, amount: 1 }), JSON.stringify({ account: to, amount: 1 })],
    });
    outcomes[r.status] = (outcomes[r.status] ?? 0) + 1;
    if (r.status !== 200) throw new Error(`submit ${r.status}: ${r.text.slice(0, 300)}`);
    return true;
  };
  const { r, usage } = await measured(async (hooks) => {
    const cancel = windowHooks(hooks, S.warmupMs, S.durationMs);
    const res = await closedLoop({ concurrency, warmupMs: S.warmupMs, durationMs: S.durationMs, op });
    cancel();
    return res;
  });
  return record(`${DTM_SAGA}@${concurrency}`, {
    tps: r.ok / r.windowS,
    lat: summarize(r.latencies),
    usage,
    extra: {
      mode: DTM_SAGA,
      ops: r.ok,
      concurrency,
      errors: r.errors,
      outcomes,
      ...(r.firstError ? { first_error: r.firstError.message.slice(0, 200) } : {}),
      measure: 'DTM-protocol sagas (2 branches, each an UPDATE behind DTM\'s barrier in a TS participant) answered 200 to submit with wait_result, per second; closed loop',
    },
  });
}

export default {
  name: DTM_SAGA,
  description: "DTM's bench shape through the DTM-protocol coordinator: sagas of two branches behind DTM's barrier in a TS\nparticipant (the participant kit), wait_result, 64 callers; reported beside direct-db@64 (parity: >= 0.42)",
  onlyWhenNamed: true,
  async run(ctx) {
    const tsx = join(ctx.root, 'node_modules', '.bin', 'tsx');
    return dtmSagaScenario({ ...ctx, tsx, start, waitFor, freePort, windowHooks, logDir: ctx.stack.logDir, serverUrl: ctx.config.db.urls.orders });
  },
};
