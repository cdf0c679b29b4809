// XA decisions, workflow side (sandbox-safe): a flow coordinating XA branches records its decision in its own state
// before phase 2 and answers the `xa-decision` query for a branch id (the xid's bqual), so a recovery job that finds
// a prepared branch can ask what to do with it. `undecided`: the flow has not decided yet (leave it to the flow);
// `unknown`: no such branch in this flow.
import { defineQuery } from '@temporalio/workflow';

export type XaDecision = 'commit' | 'rollback' | 'undecided' | 'unknown';

export const xaDecisionQuery = defineQuery<XaDecision, [bqual: string]>('xa-decision');
