// TCC: the client prepares, registers each branch (confirm and cancel URLs, the data both are called with) and calls
// its try itself. Submit → confirm every branch, abort or timeout-to-fail → cancel every branch; both in reverse
// registration order, each retried until it succeeds (a cancel of a try that never ran is the barrier's no-op).
import { phaseTwoProcessor } from './phase-two';

export const tcc = phaseTwoProcessor({ commit: 'confirm', rollback: 'cancel', order: 'reverse' });
