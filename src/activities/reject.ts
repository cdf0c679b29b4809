// Business rejections raised by activities: non-retryable ApplicationFailures with a stable type from src/shared.
import { ApplicationFailure } from '@temporalio/common';
import type { BusinessErrorType } from '../shared/errors';

export function reject(type: BusinessErrorType, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}
