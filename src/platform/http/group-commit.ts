// Group commit for flow starts: requests that arrive while a group is being started wait for the next one, so under
// load one start carries many requests and at low load a group holds one request and adds no wait (the way a
// database groups the commits that arrive during an fsync).
//
// A request first reserves a place in the open group (its id can then name the group), does its own checks (say, an
// Idempotency-Key claim), and then submits its item or abandons its place. A group is started once every place is
// settled, fewer than `maxInFlight` groups are starting and either it is full (`maxSize`) or `lingerMs` passed since
// it opened (0: at once). The linger applies only while `busy()` says the system is under load (default: always), so
// a request at low load never waits for company. Each submitter learns how its group's start went.
import { randomUUID } from 'node:crypto';

export interface GroupCommitOptions {
  maxSize: number;
  lingerMs: number;
  maxInFlight: number;
  /** Whether to linger now (e.g. earlier groups still running); the linger is skipped when false. */
  busy?: () => boolean;
}

export interface Place<T, R> {
  /** The group's id (fixed when the group opens). */
  readonly groupId: string;
  /** This place's number in its group (0, 1, …). */
  readonly index: number;
  /** Hands in the item; resolves with the group's start result once the group has been started. */
  submit(item: T): Promise<R>;
  /** Gives the place up (the request went another way or failed); a no-op once submitted. */
  abandon(): void;
}

interface Group<T, R> {
  id: string;
  openedAt: number;
  places: number;
  unsettled: number;
  items: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }>;
  sealed: boolean;
  /** Waits up to lingerMs for company (decided when it opens). */
  lingering?: boolean;
  timer?: NodeJS.Timeout;
}

export class GroupCommit<T, R> {
  private open: Group<T, R> | undefined;
  private readonly waiting: Group<T, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly start: (groupId: string, items: T[]) => Promise<R>,
    private readonly options: GroupCommitOptions,
    private readonly onGroup?: (size: number) => void,
  ) {}

  reserve(): Place<T, R> {
    const group = (this.open ??= this.newGroup());
    const index = group.places++;
    group.unsettled++;
    if (group.places >= this.options.maxSize) this.seal(group);
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      group.unsettled--;
      return true;
    };
    return {
      groupId: group.id,
      index,
      submit: (item) =>
        new Promise<R>((resolve, reject) => {
          if (!settle()) return reject(new Error('place already settled'));
          group.items.push({ item, resolve, reject });
          this.pump();
        }),
      abandon: () => {
        if (settle()) this.pump();
      },
    };
  }

  private lingers(group: Group<T, R>): boolean {
    return group.lingering ?? false;
  }

  private newGroup(): Group<T, R> {
    const lingering = this.options.lingerMs > 0 && (this.options.busy?.() ?? true);
    const group: Group<T, R> = { id: randomUUID(), openedAt: Date.now(), places: 0, unsettled: 0, items: [], sealed: false, lingering };
    if (lingering) {
      group.timer = setTimeout(() => {
        this.seal(group);
        this.pump();
      }, this.options.lingerMs);
      group.timer.unref?.();
    }
    return group;
  }

  /** No more places in `group`: the next reservation opens a new group. */
  private seal(group: Group<T, R>) {
    if (group.sealed) return;
    group.sealed = true;
    if (group.timer) clearTimeout(group.timer);
    if (this.open === group) this.open = undefined;
    this.waiting.push(group);
  }

  private pump() {
    // With no linger the open group closes as soon as a start slot is free and no closed group waits for it; it then
    // only waits for the places already taken (later requests open the next group, so a stream never starves it).
    if (this.open && !this.lingers(this.open) && this.inFlight < this.options.maxInFlight && this.waiting.length === 0) this.seal(this.open);
    for (let i = 0; i < this.waiting.length && this.inFlight < this.options.maxInFlight; ) {
      const group = this.waiting[i];
      if (group.unsettled > 0) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      if (group.items.length) void this.run(group);
    }
  }

  private async run(group: Group<T, R>) {
    this.inFlight++;
    this.onGroup?.(group.items.length);
    try {
      const result = await this.start(group.id, group.items.map((i) => i.item));
      for (const i of group.items) i.resolve(result);
    } catch (err) {
      for (const i of group.items) i.reject(err);
    } finally {
      this.inFlight--;
      this.pump();
    }
  }
}
