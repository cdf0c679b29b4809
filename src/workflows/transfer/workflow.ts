// The transfer flow's workflows: transferMoney runs one transfer (run.ts) as its own workflow, in the mode its input
// names (saga, tcc or xa), and answers the progress query and the XA recovery job's decision query; transferBatch
// runs many saga transfers side by side (batched mode).
import { allHandlersFinished, CancellationScope, condition, isCancellation, patched, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { gatheringOfThisRun, PIVOT_SETTLED } from '../../platform/workflow/coalesce';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { xaDecisionQuery } from '../../platform/workflow/xa';
import {
  addTransfersSignal,
  awaitTransferUpdate,
  batchedTransferQuery,
  batchedTransfersQuery,
  cancelTransferSignal,
  TransferIdKey,
  transferProgressQuery,
  type BatchedTransfer,
  type TransferBatchInput,
  type TransferBatchResult,
  type TransferInput,
  type TransferProgress,
} from './contract';
import { coalescedLedgerSteps, TransferRun } from './run';

export async function transferMoney(input: TransferInput): Promise<TransferProgress> {
  const run = new TransferRun(input, {
    status: (status, details) => {
      upsertSearchAttributes([{ key: FlowStatusKey, value: status }]);
      setCurrentDetails(details);
    },
    details: setCurrentDetails,
  });
  setHandler(transferProgressQuery, () => run.view());
  setHandler(xaDecisionQuery, (bqual) => run.xaDecision(bqual) ?? 'unknown');
  // Prefer: wait in one call: the API's update-with-start returns when the transfer is terminal.
  setHandler(
    awaitTransferUpdate,
    async () => {
      await condition(() => run.terminal);
      return run.view();
    },
    { validator: (id) => { if (id !== input.id) throw new Error(`this run holds transfer ${input.id}, not ${id}`); } },
  );
  const result = await run.run();
  // Every waiting caller has its answer before the run closes — also after a cancel request that came too late to
  // undo the transfer (past its pivot it completes, and the run ends with its result, not cancelled).
  // (Runs recorded before the patch ended cancelled then.)
  if (patched(PIVOT_SETTLED)) await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  else await condition(allHandlersFinished);
  return result;
}

/** Transfer ids a batch run lists in its TransferId search attribute (2 KB per value). */
const MAX_LISTED = 40;

/**
 * transferBatch: the transfers one API process received within a moment, run side by side in one workflow — each
 * with its own saga, compensation stack, barrier rows (keyed by the transfer's id), pivot and outcome, and its own
 * cancellation scope, so one's rejection, compensation or cancel never touches another. The batch only shares the
 * workflow tasks: one task answers the completions of many transfers' steps.
 */
export async function transferBatch(input: TransferBatchInput): Promise<TransferBatchResult> {
  const { timeouts, topology } = input;
  // One call per step and shard for the transfers that reach it together; the grouping rule is decided (and, in a
  // new run, recorded as a patch marker) before the run's first command.
  const ledger = coalescedLedgerSteps(topology, timeouts, gatheringOfThisRun());
  const held = new Map<string, { run: TransferRun; scope: CancellationScope; done: Promise<void> }>();
  const stuck = new Set<string>();
  // Counted as they change (no pass over the batch per change): running, completed, compensated.
  const counts = { RUNNING: 0, COMPLETED: 0, COMPENSATED: 0 };
  let published = 'RUNNING';
  const publish = () => {
    const now = stuck.size ? 'FAILED' : counts.RUNNING === 0 ? 'COMPLETED' : 'RUNNING';
    if (now === published) return;
    published = now;
    upsertSearchAttributes([{ key: FlowStatusKey, value: now }]);
  };
  const details = () =>
    setCurrentDetails(`${held.size} transfers: ${counts.RUNNING} running, ${counts.COMPLETED} completed, ${counts.COMPENSATED} compensated${stuck.size ? `, ${stuck.size} need an operator` : ''}`);

  const add = (transfers: BatchedTransfer[], searchAttribute: boolean) => {
    const fresh = transfers.filter((t) => !held.has(t.id));
    for (const t of fresh) {
      counts.RUNNING++;
      const run = new TransferRun({ ...t, timeouts, topology }, {
        status: (status) => {
          if (status === 'FAILED') stuck.add(t.id);
          else stuck.delete(t.id);
          if (status === 'COMPLETED' || status === 'COMPENSATED') {
            counts.RUNNING--;
            counts[status]++;
          }
          publish();
          details();
        },
        details: () => undefined, // a batch's details line sums up its transfers instead
      }, ledger);
      const scope = new CancellationScope();
      const done = scope.run(() => run.run()).then(
        () => undefined,
        (err) => {
          if (!isCancellation(err)) throw err; // a cancelled transfer was undone; the batch goes on
        },
      );
      held.set(t.id, { run, scope, done });
    }
    // The list stays within Temporal's 2 KB per search attribute value (TRANSFER_BATCH_MAX_SIZE ≤ 40): transfers added
    // later by a retried request (rare) beyond that are held and run, but not listed.
    if (searchAttribute && fresh.length && held.size - fresh.length < MAX_LISTED) upsertSearchAttributes([{ key: TransferIdKey, value: [...held.keys()].slice(0, MAX_LISTED) }]);
    return fresh.length;
  };

  // The batch's own transfers first: signals that came with the start are delivered as soon as their handler is set.
  add(input.transfers, false); // the start's search attributes already name them
  setHandler(batchedTransferQuery, (id) => held.get(id)?.run.view());
  setHandler(batchedTransfersQuery, (ids) => ids.map((id) => held.get(id)?.run.view()));
  setHandler(transferProgressQuery, () => { throw new Error('a batch holds many transfers: ask for one with the "transfer" query'); });
  setHandler(
    awaitTransferUpdate,
    async (id) => {
      const h = held.get(id)!;
      await condition(() => h.run.terminal);
      return h.run.view();
    },
    { validator: (id) => { if (!held.has(id)) throw new Error(`transfer ${id} is not in this batch`); } },
  );
  setHandler(addTransfersSignal, (transfers) => { if (add(transfers, true)) { publish(); details(); } });
  setHandler(cancelTransferSignal, (id) => held.get(id)?.scope.cancel());

  details();
  // Done when every transfer held (those added later included) is terminal and every update has answered. Not
  // cancellable: cancelling the whole run cancels every transfer (each is undone unless past its pivot), and the run
  // waits for all of them to finish undoing before it closes.
  await CancellationScope.nonCancellable(async () => {
    await condition(() => [...held.values()].every((h) => h.run.terminal) && allHandlersFinished());
    await Promise.all([...held.values()].map((h) => h.done));
  });
  publish();
  return { transfers: [...held.values()].map((h) => h.run.view()) };
}
