// The XA transfer: two-phase commit across the two shard databases, coordinated by this workflow.
// Phase 1: each shard's branch (the debit with the transfer row on the source's shard, the credit on the
// destination's; one branch with both when the accounts share a shard) runs in one activity on one connection:
// XA START, barrier row + business write, XA END, XA PREPARE — one branch after the other in the order of the
// account rows they lock (see below), each branch's rollback registered first.
// Decision: commit only when every branch prepared, else roll back; recorded in the workflow's state (and answered
// to the recovery job's `xa-decision` query) before any phase-2 call. Phase 2: XA COMMIT / XA ROLLBACK of each branch
// on any connection, retried until done (idempotent activities). Prepared rows stay locked from PREPARE to COMMIT:
// readers that lock (or a reader's locking read across both shards) see the balances before or after, never between.
import type { TransferMode } from './mode';

export const runXa: TransferMode = {
  undone: 'rolled-back',
  async run({ transfer, saga, source, destination, sameShard, amount, report, phase, decide }) {
    const { fromAccountId, toAccountId } = transfer;
    const sides = sameShard
      ? [{ side: 'both' as const, branchId: 'xa-both', on: source, what: `${fromAccountId} → ${toAccountId}`, locks: fromAccountId }]
      : [
          { side: 'from' as const, branchId: 'xa-from', on: source, what: `debit of ${fromAccountId}`, locks: fromAccountId },
          { side: 'to' as const, branchId: 'xa-to', on: destination, what: `credit of ${toAccountId}`, locks: toAccountId },
        ];
    const branchIds = sides.map((s) => s.branchId);
    decide('undecided', branchIds);
    report.details(`Preparing ${amount} ${fromAccountId} → ${toAccountId} (XA)`);
    try {
      // One after the other, in the order of the account each branch locks: two transfers between the same accounts
      // in opposite directions then queue on the first row instead of each holding one prepared row while waiting
      // for the other's (a deadlock across two servers that no single server can see).
      for (const { side, branchId, on, what } of [...sides].sort((x, y) => (x.locks < y.locks ? -1 : 1))) {
        await saga.step(
          `prepare:${branchId}`,
          () => on.forward.prepareTransferBranch.executeWithOptions({ summary: `XA prepare ${what} (${amount})` }, [{ branchId, transfer, side }]),
          () => on.undo.rollbackTransferBranch.executeWithOptions({ summary: `XA rollback ${what}` }, [{ branchId }]),
        );
      }
    } catch (err) {
      decide('rollback', branchIds);
      throw err;
    }
    // Every branch prepared: the decision is commit, recorded before the first XA COMMIT; from here only forward.
    decide('commit', branchIds);
    saga.commit();
    phase('prepared');
    report.details(`Committing ${amount} ${fromAccountId} → ${toAccountId} (XA)`);
    await Promise.all(
      sides.map(({ branchId, on, what }) =>
        saga.always(`commit:${branchId}`, () => on.settle.commitTransferBranch.executeWithOptions({ summary: `XA commit ${what}` }, [{ branchId }])),
      ),
    );
    phase('committed');
  },
};
