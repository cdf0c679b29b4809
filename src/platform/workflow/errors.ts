// Failure types every flow shares. Business rejections are owned by the domain that raises them (its contract's
// `…Errors`) and are recognised here by being non-retryable ApplicationFailures with a type, so this module needs to
// know no domain. The API and the flows match on the type, never on messages.
export const StepErrors = {
  /** The flow was cancelled through Temporal (an operator), not by a business request. */
  Cancelled: 'Cancelled',
  /** A forward step kept failing past its schedule-to-close timeout: the saga gave up and compensated. */
  DependencyUnavailable: 'DependencyUnavailable',
  /** The step was told that its compensation ran first (a "hanging" action): it must not take effect. */
  StepAlreadyCompensated: 'StepAlreadyCompensated',
} as const;
