// A store unit's Temporal worker that polls only while the unit's database answers. A probe (SELECT 1) runs every
// `intervalMs`; after `failuresToPause` failures in a row the unit's worker is shut down (it drains what it holds and
// stops taking tasks, so activities are not taken only to fail while the database is gone), and once the probe
// passes again a new worker is created for the same queue. Tasks wait in their queue meanwhile (schedule-to-close
// timeouts still run: a forward step that waits too long fails and its flow compensates, once the database is back).
import type { Worker } from '@temporalio/worker';
import type { Sequelize } from 'sequelize';
import type { Logger } from '../logger';
import { within } from '../timeout';

export interface GatedWorkerOptions {
  unit: string;
  /** Creates the unit's worker (not yet running). */
  create: () => Promise<Worker>;
  /** True while the unit's database answers. */
  probe: () => Promise<boolean>;
  log: Logger;
  intervalMs?: number;
  failuresToPause?: number;
}

export interface GatedWorker {
  /** Resolves once shutdown() was called and the current worker drained; rejects when a worker fails. */
  run(): Promise<void>;
  shutdown(): void;
  /** True while no worker polls (the database is down). */
  readonly paused: boolean;
}

export const databaseAnswers = (db: Sequelize, timeoutMs = 2_000) => () =>
  within(timeoutMs, db.query('SELECT 1'), 'database probe').then(
    () => true,
    () => false,
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stopWorker(worker: Worker | undefined): void {
  if (worker?.getState() !== 'RUNNING') return;
  try {
    worker.shutdown();
  } catch {
    /* already stopping (the SDK's own signal handling got there first) */
  }
}

export function gatedWorker(o: GatedWorkerOptions): GatedWorker {
  const intervalMs = o.intervalMs ?? 1_000;
  const failuresToPause = o.failuresToPause ?? 2;
  let stopped = false;
  let paused = true;
  let current: Worker | undefined;

  /** Watches the database while `worker` runs; shuts the worker down when the database is gone. */
  async function watch(worker: Worker) {
    let failures = 0;
    while (!stopped && worker.getState() === 'RUNNING') {
      await sleep(intervalMs);
      failures = (await o.probe()) ? 0 : failures + 1;
      if (failures >= failuresToPause && !stopped) {
        o.log.warn({ unit: o.unit }, 'database unavailable: pausing this unit (no tasks taken until it answers)');
        stopWorker(worker);
        return;
      }
    }
  }

  async function run() {
    while (!stopped) {
      if (!(await o.probe())) {
        await sleep(intervalMs);
        continue;
      }
      const worker = await o.create();
      if (stopped) return; // shut down while it was created
      current = worker;
      if (paused) o.log.info({ unit: o.unit }, 'database answers: unit polling');
      paused = false;
      await Promise.all([worker.run(), watch(worker)]);
      current = undefined;
      paused = true;
    }
  }

  return {
    run,
    shutdown() {
      stopped = true;
      stopWorker(current);
    },
    get paused() {
      return paused;
    },
  };
}
