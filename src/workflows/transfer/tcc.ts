// The TCC transfer, on the TCC helper and the barrier: try = hold on the source (balance → frozen, with the transfer
// row) and a pending, unspendable credit on the destination, concurrently; confirm = apply both (frozen leaves the
// source, pending becomes balance); cancel = release both. Cancels are registered before the tries run (a try that
// timed out is still cancelled; the barrier makes a cancel of a try that never ran a no-op and blocks that try if it
// arrives later); confirms and cancels are retried until they succeed. No reader ever sees money that is not there:
// the destination can spend nothing before confirm.
import { Tcc } from '../../platform/workflow/tcc';
import type { TransferMode } from './mode';

export const runTcc: TransferMode = {
  undone: 'cancelled',
  async run({ transfer, saga, source, destination, amount, report, phase }) {
    const { fromAccountId, toAccountId } = transfer;
    const from = { branchId: 'tcc-from', transfer };
    const to = { branchId: 'tcc-to', transfer };
    const tcc = new Tcc(saga);
    report.details(`Holding ${amount} on ${fromAccountId} for ${toAccountId}`);
    await tcc.tryAll([
      {
        name: 'hold-source',
        try: () => source.forward.holdTransferFrom.executeWithOptions({ summary: `Hold ${amount} on ${fromAccountId}` }, [from]),
        confirm: () => source.settle.confirmTransferFrom.executeWithOptions({ summary: `Take the held ${amount} from ${fromAccountId}` }, [from]),
        cancel: () => source.undo.cancelTransferFrom.executeWithOptions({ summary: `Release the hold of ${amount} on ${fromAccountId}` }, [from]),
      },
      {
        name: 'pending-credit',
        try: () => destination.forward.holdTransferTo.executeWithOptions({ summary: `Pending credit of ${amount} on ${toAccountId}` }, [to]),
        confirm: () => destination.settle.confirmTransferTo.executeWithOptions({ summary: `Apply the pending ${amount} on ${toAccountId}` }, [to]),
        cancel: () => destination.undo.cancelTransferTo.executeWithOptions({ summary: `Drop the pending ${amount} on ${toAccountId}` }, [to]),
      },
    ]);
    phase('held');
    report.details(`Confirming ${amount} ${fromAccountId} → ${toAccountId}`);
    await tcc.confirmAll();
    phase('confirmed');
  },
};
