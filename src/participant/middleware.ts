// A Hono middleware that makes a route a branch of any DTM-protocol coordinator: it reads the branch the coordinator
// names in the query (gid, trans_type, branch_id, op), and gives the handler `c.var.dtm`, whose `handle` runs the
// business write once behind DTM's barrier and answers in DTM's words:
//   200 {"dtm_result":"SUCCESS"}  done, or nothing to do (duplicate, hanging, null compensation);
//   409 {"dtm_result":"FAILURE"}  the write threw DtmFailure (final for a saga action or a try);
//   425 {"dtm_result":"ONGOING"}  the write threw DtmOngoing (the coordinator calls again later);
//   any other error goes on to the app's error handler (a 5xx: the coordinator retries).
//
//   app.post('/transfer-out', dtmBranch(barrier), (c) => c.var.dtm.handle((t) => debit(t, amount)));
//   app.get('/query-prepared', dtmBranch(barrier), (c) => c.var.dtm.queryPrepared());
import type { Context, MiddlewareHandler } from 'hono';
import type { Transaction } from 'sequelize';
import { branchFromQuery, DtmFailure, DtmOngoing, type DtmBarrier, type DtmBarrierOutcome, type DtmBranch } from './barrier';

export interface DtmBranchContext {
  branch: DtmBranch;
  /** Runs `write` behind the barrier (each call in one request takes the next barrier id, as DTM's client does). */
  handle(write: (t: Transaction) => Promise<unknown>): Promise<Response>;
  /** The back-check of a 2-phase message (GET query_prepared): 200 committed, 409 rolled back. */
  queryPrepared(): Promise<Response>;
  /** The outcome of the last `handle` of this request (for logs and tests). */
  outcome?: DtmBarrierOutcome;
}

export type DtmBranchEnv = { Variables: { dtm: DtmBranchContext } };

/** DTM's answers (a success body never contains the word FAILURE: clients read it as an error). */
export function dtmAnswer(c: Context, result: 'SUCCESS' | 'FAILURE' | 'ONGOING', message?: string): Response {
  const status = result === 'SUCCESS' ? 200 : result === 'FAILURE' ? 409 : 425;
  return c.json(message === undefined ? { dtm_result: result } : { dtm_result: result, message }, status);
}

export function dtmBranch(barrier: DtmBarrier): MiddlewareHandler<DtmBranchEnv> {
  return async (c, next) => {
    const branch = branchFromQuery((k) => c.req.query(k));
    if (!branch) return c.json({ dtm_result: 'FAILURE', message: 'gid, trans_type, branch_id and op are required' }, 400);
    let calls = 0;
    const ctx: DtmBranchContext = {
      branch,
      async handle(write) {
        calls += 1;
        try {
          const result = await barrier.call(branch, write, String(calls).padStart(2, '0'));
          ctx.outcome = result.outcome;
          return dtmAnswer(c, 'SUCCESS');
        } catch (err) {
          if (err instanceof DtmFailure) return dtmAnswer(c, 'FAILURE', err.message);
          if (err instanceof DtmOngoing) return dtmAnswer(c, 'ONGOING');
          throw err;
        }
      },
      async queryPrepared() {
        const state = await barrier.queryPrepared(branch.gid);
        return state === 'committed' ? dtmAnswer(c, 'SUCCESS') : dtmAnswer(c, 'FAILURE', 'the local transaction rolled back');
      },
    };
    c.set('dtm', ctx);
    await next();
  };
}
