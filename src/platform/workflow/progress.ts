// Step progress of a flow, kept in workflow state and served by the `progress` query. Timestamps are workflow time,
// so they are deterministic on replay.
import type { StepProgress, StepState } from './types';

export class Progress {
  readonly steps: StepProgress[] = [];

  /** Returns the record of `name`, creating it (pending) on first use. */
  step(name: string): StepProgress {
    let s = this.steps.find((x) => x.name === name);
    if (!s) {
      s = { name, state: 'pending' };
      this.steps.push(s);
    }
    return s;
  }

  mark(name: string, state: StepState, error?: unknown): StepProgress {
    const s = this.step(name);
    const now = new Date().toISOString();
    if (state === 'running' || state === 'compensating') s.startedAt = now;
    else s.endedAt = now;
    s.state = state;
    if (error !== undefined) s.error = describe(error);
    return s;
  }

  snapshot(): StepProgress[] {
    return this.steps.map((s) => ({ ...s }));
  }
}

/** One line for a failure, for progress and logs (never a stack). */
export function describe(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { message?: string; cause?: { message?: string } };
    const msg = e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
    return String(msg ?? err).slice(0, 300);
  }
  return String(err).slice(0, 300);
}
