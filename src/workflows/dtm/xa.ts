// XA: each branch registers its phase-2 URL from inside its local XA transaction (prepared there). Submit → `commit`
// to every branch, abort or timeout-to-fail → `rollback`, in registration order, each retried until it succeeds.
import { phaseTwoProcessor } from './phase-two';

export const xa = phaseTwoProcessor({ commit: 'commit', rollback: 'rollback', order: 'registration' });
