// Builds the public resources from the database row (authoritative once terminal) and the flow's progress (steps,
// and the live status while it runs).
import type { StepProgress } from '../workflow/types';

export interface StepView {
  name: string;
  status: StepProgress['state'];
  at: string | null;
}

export function stepsView(steps: StepProgress[] | undefined): StepView[] {
  return (steps ?? []).map((s) => ({ name: s.name, status: s.state, at: s.endedAt ?? s.startedAt ?? null }));
}

/** The row's status wins once terminal; before that the flow's live status (e.g. AWAITING_APPROVAL, FAILED). */
export function mergeStatus<S extends string>(row: S | undefined, live: S | undefined, terminal: readonly S[], initial: S): S {
  if (row && terminal.includes(row)) return row;
  return live ?? row ?? initial;
}

export const iso = (d: Date | string | undefined | null) => (d ? new Date(d).toISOString() : null);
