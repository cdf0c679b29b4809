// Every flow the load started ended terminal (COMPLETED/COMPENSATED, CONFIRMED/CANCELLED), none failed, none gave up
// on a dependency; the summary counts the outcomes per kind (and mode), status and reason.
const TERMINAL = ['COMPLETED', 'COMPENSATED', 'CONFIRMED', 'CANCELLED'];

export default {
  name: 'flows',
  check({ flows }, v, summary) {
    const outcome = {};
    for (const f of flows.values()) {
      const k = `${f.kind}${f.body?.consistency ? `/${f.body.consistency}` : ''}:${f.status}${f.reasonCode ? `:${f.reasonCode}` : ''}`;
      outcome[k] = (outcome[k] ?? 0) + 1;
      const ctx = { id: f.id, kind: f.kind, status: f.status, reason: f.reasonCode };
      if (!f.status || !TERMINAL.includes(f.status)) v(f.status === 'FAILED' ? 'flow-failed' : 'flow-not-terminal', ctx);
      else if (f.reasonCode === 'DependencyUnavailable') v('gave-up-on-dependency', ctx);
    }
    summary.outcomes = Object.fromEntries(Object.entries(outcome).sort());
  },
};
