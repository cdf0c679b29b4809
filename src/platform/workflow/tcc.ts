// The TCC helper, built on the saga: a participant's cancel is registered as the compensation of its try (before the
// try runs, so a try that timed out is still cancelled; the barrier makes that a null compensation when it never
// committed). Confirm runs only once every try succeeded and is retried until it succeeds.
import type { Saga } from './saga';

export interface Participant {
  name: string;
  try: () => Promise<unknown>;
  confirm: () => Promise<unknown>;
  cancel: () => Promise<unknown>;
}

export class Tcc {
  private readonly tried: Participant[] = [];

  /** Confirms and cancels use the saga's undo options (never give up; alarm when stuck). */
  constructor(private readonly saga: Saga) {}

  /** Tries every participant concurrently. Any failure leaves all of them registered for cancel. */
  async tryAll(participants: Participant[]): Promise<void> {
    this.tried.push(...participants);
    await this.saga.parallel(
      participants.map((p) => ({ name: `${p.name}:try`, run: p.try, compensate: p.cancel })),
    );
  }

  /** Confirms every participant concurrently, each retried until it succeeds. */
  async confirmAll(): Promise<void> {
    this.saga.commit();
    await Promise.all(this.tried.map((p) => this.saga.always(`${p.name}:confirm`, p.confirm)));
  }

  /** Cancels every participant whose try may have run (the saga's stack holds exactly those). */
  cancelAll(): Promise<void> {
    return this.saga.compensate();
  }
}
