// Stable ApplicationFailure type names. Business rejections are non-retryable and carry one of these types; the API
// and the flows match on the type, never on messages.
export const BusinessErrors = {
  InsufficientFunds: 'InsufficientFunds',
  AccountNotFound: 'AccountNotFound',
  CurrencyMismatch: 'CurrencyMismatch',
  SameAccount: 'SameAccount',
  ProductNotFound: 'ProductNotFound',
  OutOfStock: 'OutOfStock',
  OrderCancelled: 'OrderCancelled',
  /** The flow was cancelled through Temporal (an operator), not by a business request. */
  Cancelled: 'Cancelled',
  ApprovalTimedOut: 'ApprovalTimedOut',
  /** A forward step kept failing past its schedule-to-close timeout: the saga gave up and compensated. */
  DependencyUnavailable: 'DependencyUnavailable',
  /** The step was told that its compensation ran first (a "hanging" action): it must not take effect. */
  StepAlreadyCompensated: 'StepAlreadyCompensated',
} as const;

export type BusinessErrorType = (typeof BusinessErrors)[keyof typeof BusinessErrors];

export const businessErrorTypes: readonly string[] = Object.values(BusinessErrors);

export function isBusinessErrorType(type: string | undefined | null): type is BusinessErrorType {
  return type != null && businessErrorTypes.includes(type);
}
