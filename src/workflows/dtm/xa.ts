// XA: each branch registers its phase-2 URL from inside its local XA transaction (prepared there). Submit → `commit`
// to every branch, abort or timeout-to-fail → `rollback`, in registration order, each retried until it succeeds.
import type { Processor } from './processor';
import { phaseTwo } from './tcc';

export const xa: Processor = {
  declare() {
    // Branches arrive through registerBranch.
  },
  async expire(tx) {
    tx.setStatus('aborting', 'timeout');
  },
  async process(tx) {
    if (tx.status === 'submitted') {
      await phaseTwo(tx, 'commit', 'registration');
      return tx.setStatus('succeed');
    }
    await phaseTwo(tx, 'rollback', 'registration');
    tx.setStatus('failed');
  },
};
