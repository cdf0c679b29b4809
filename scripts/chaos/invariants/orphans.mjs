// Rows that no accepted POST accounts for (a second flow for one Idempotency-Key, or a lost answer): transfers,
// orders, points, barrier rows and ledger movements of a flow the load never started.
export default {
  name: 'orphans',
  check({ flows, transfers, orders, points, barriers, entriesByFlow, knownWorkflows }, v) {
    for (const [id, t] of transfers) if (!flows.has(id)) v('orphan-flow', { type: 'transfer', id, status: t.status, shard: t.shard });
    for (const [id, o] of orders) if (!flows.has(id)) v('orphan-flow', { type: 'order', id, status: o.status });
    for (const id of points.keys()) if (!flows.has(id)) v('orphan-points', { order: id });
    for (const [wf, byBranch] of barriers) if (!knownWorkflows.has(wf)) v('orphan-barrier', { flow: wf, branches: [...byBranch.keys()] });
    for (const wf of entriesByFlow.keys()) if (!knownWorkflows.has(wf)) v('orphan-movement', { flow: wf });
  },
};
