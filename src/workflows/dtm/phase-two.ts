// The shape TCC and XA share: branches registered one by one while the transaction is prepared; timeout-to-fail
// aborts it; submitted → one phase-two operation on every branch, aborting → the other, in a fixed order, each call
// retried until it succeeds (the participant's barrier or XA makes a repeat or an undo of nothing harmless).
import { CancellationScope } from '@temporalio/workflow';
import type { BranchOp } from '../../activities/dtm/contract';
import type { Processor } from './processor';
import type { Transaction } from './transaction';

async function onEveryBranch(tx: Transaction, op: BranchOp, order: 'registration' | 'reverse'): Promise<void> {
  const branches = tx.branches.filter((b) => b.op === op);
  if (order === 'reverse') branches.reverse();
  await CancellationScope.nonCancellable(async () => {
    for (const b of branches) await tx.call(b, b.bin_data ?? '', { failureFinal: false });
  });
}

export function phaseTwoProcessor(ops: { commit: BranchOp; rollback: BranchOp; order: 'registration' | 'reverse' }): Processor {
  return {
    declare() {
      // Branches arrive through registerBranch.
    },
    async expire(tx) {
      tx.setStatus('aborting', 'timeout');
    },
    async process(tx) {
      const committing = tx.status === 'submitted';
      await onEveryBranch(tx, committing ? ops.commit : ops.rollback, ops.order);
      tx.setStatus(committing ? 'succeed' : 'failed');
    },
  };
}
