// The saga transfer: debit the source (compensable: refunded) → credit the destination (the pivot: once credited the
// destination may spend the money at once, so a credit is never reversed: it is retried until known — it happened, or
// it was rejected and the debit is refunded). A reader may see the money in neither account between the two steps.
import { patched } from '@temporalio/workflow';
import type { TransferMode } from './mode';

export const runSaga: TransferMode = {
  undone: 'refunded',
  async run({ transfer, flowId, saga, ledger, destination, amount, report, phase, onStuck }) {
    const { fromAccountId, toAccountId } = transfer;
    const step = { debit: { branchId: 'debit', flowId, transfer }, credit: { branchId: 'credit', flowId, transfer } };
    report.details(`Debiting ${amount} from ${fromAccountId}`);
    await saga.step(
      'debit',
      () => ledger.debit(step.debit, `Debit ${amount} from ${fromAccountId}`),
      () => ledger.refund(step.debit, `Refund ${amount} to ${fromAccountId}`, onStuck),
    );
    phase('debited');
    report.details(`Crediting ${amount} to ${toAccountId}`);
    const credit = (proxy: typeof destination.pivot) =>
      proxy.creditDestination.executeWithOptions({ summary: `Credit ${amount} to ${toAccountId}` }, [step.credit]);
    if (patched('credit-is-pivot')) {
      await saga.pivot('credit', () => ledger.credit(step.credit, `Credit ${amount} to ${toAccountId}`));
    } else {
      // Runs recorded before the patch registered a reversal of the credit (never needed, and unsafe once spent).
      await saga.step(
        'credit',
        () => credit(destination.forward),
        () => destination.undo.reverseCredit.executeWithOptions({ summary: `Reverse credit of ${amount} on ${toAccountId}` }, [step.credit]),
      );
      saga.commit();
    }
    phase('credited');
  },
};
