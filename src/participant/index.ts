// What a TypeScript service outside sagaflow's own services uses to join a DTM-protocol global transaction: DTM's
// barrier on its own database and a Hono middleware for its branch routes.
export { branchFromQuery, createDtmBarrier, dtmBarrierDdl, DtmFailure, DtmOngoing, MSG_BRANCH } from './barrier';
export type { DtmBarrier, DtmBarrierOptions, DtmBarrierOutcome, DtmBarrierResult, DtmBranch } from './barrier';
export { dtmAnswer, dtmBranch } from './middleware';
export type { DtmBranchContext, DtmBranchEnv } from './middleware';
