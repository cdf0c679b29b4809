// TCC: the client prepares, registers each branch (confirm and cancel URLs, the data both are called with) and calls
// its try itself. Submit → confirm every branch, abort or timeout-to-fail → cancel every branch; both in reverse
// registration order, each retried until it succeeds (a cancel of a try that never ran is the barrier's no-op).
import { CancellationScope } from '@temporalio/workflow';
import type { BranchOp } from '../../activities/dtm/contract';
import type { Processor } from './processor';
import type { Transaction } from './transaction';

/** Calls `op` on every registered branch that has it, in registration order or reversed, each until it succeeds. */
export async function phaseTwo(tx: Transaction, op: BranchOp, order: 'registration' | 'reverse'): Promise<void> {
  const branches = tx.branches.filter((b) => b.op === op);
  if (order === 'reverse') branches.reverse();
  await CancellationScope.nonCancellable(async () => {
    for (const b of branches) await tx.call(b, b.bin_data ?? '', { failureFinal: false });
  });
}

export const tcc: Processor = {
  declare() {
    // Branches arrive through registerBranch.
  },
  async expire(tx) {
    tx.setStatus('aborting', 'timeout');
  },
  async process(tx) {
    if (tx.status === 'submitted') {
      await phaseTwo(tx, 'confirm', 'reverse');
      return tx.setStatus('succeed');
    }
    await phaseTwo(tx, 'cancel', 'reverse');
    tx.setStatus('failed');
  },
};
