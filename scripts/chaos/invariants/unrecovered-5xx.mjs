// Invariants of the --ha chaos run (scripts/chaos.mjs --ha): behind the load balancer a request may meet a dying
// replica, and a client retrying 5xx with its Idempotency-Key must then get its answer — no request may stay 5xx (or
// unanswered) after the retries; and every flow the API accepted must have reached a terminal state.
import { TERMINAL } from '../load.mjs';

/** Records a violation per request still failing after the client's retries and per accepted flow not terminal. */
export function checkUnrecovered({ rec, flows }) {
  for (const u of rec.unrecovered ?? []) rec.violation('unrecovered-5xx', u);
  const open = [...flows.values()].filter((f) => !TERMINAL[f.type]?.includes(f.status));
  for (const f of open.slice(0, 20)) rec.violation('accepted-not-terminal', { type: f.type, id: f.id, status: f.status ?? null });
  if (open.length > 20) rec.violation('accepted-not-terminal', { more: open.length - 20 });
}
