// 2-phase message: prepare → the application's local transaction → submit. Submitted → deliver every step's action
// (after custom_data's `delay` seconds; in order, or all at once when concurrent), each retried until it succeeds.
// Still prepared at timeout-to-fail → back-check: `query_prepared` as branch 00, op msg (SUCCESS → deliver, FAILURE →
// failed, ONGOING → asked again at the retry interval). Aborted while prepared → failed, nothing delivered.
import { CancellationScope, sleep } from '@temporalio/workflow';
import { backCheckBranchId, stepBranchId } from '../../activities/dtm/contract';
import type { Processor } from './processor';
import { parseCustom } from './saga';

export const msg: Processor = {
  declare(tx) {
    tx.body.steps.forEach((s, i) => tx.addBranch(stepBranchId(i), 'action', s.action ?? ''));
  },

  async expire(tx) {
    if (!tx.body.queryPrepared) return tx.setStatus('failed', 'prepared past timeout_to_fail and no query_prepared to ask');
    const r = await tx.call({ branch_id: backCheckBranchId, op: 'msg', url: tx.body.queryPrepared }, '', { failureFinal: true });
    if (tx.status !== 'prepared') return; // a submit or an abort arrived meanwhile
    if (r.result === 'SUCCESS') tx.setStatus('submitted');
    else tx.setStatus('failed', r.message ?? 'query_prepared answered FAILURE');
  },

  async process(tx) {
    if (tx.status !== 'submitted') return tx.setStatus('failed');
    const custom = parseCustom(tx.body.customData);
    const delay = Number(custom.delay ?? 0);
    if (delay > 0) await sleep(delay * 1000);
    const deliver = (i: number) => tx.call({ branch_id: stepBranchId(i), op: 'action', url: tx.body.steps[i].action ?? '' }, tx.body.payloads[i] ?? '', { failureFinal: false });
    await CancellationScope.nonCancellable(async () => {
      const indexes = tx.body.steps.map((_, i) => i);
      if (tx.body.concurrent || custom.concurrent === true) await Promise.all(indexes.map(deliver));
      else for (const i of indexes) await deliver(i);
    });
    tx.setStatus('succeed');
  },
};
