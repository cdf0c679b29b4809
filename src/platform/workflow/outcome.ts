// Turns the failure that stopped a flow into the reason users see: business rejections (non-retryable
// ApplicationFailures raised by a domain or the flow) keep their type; a forward step that exhausted its
// schedule-to-close budget is a dependency that was unavailable.
import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import { StepErrors } from './errors';
import type { FlowReason } from './types';

export function reasonOf(err: unknown): FlowReason {
  // The API's cancel route and an operator's cancel in the Web UI reach the flow alike: the message claims neither.
  if (isCancellation(err)) return { code: StepErrors.Cancelled, message: 'cancelled by request' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.nonRetryable && cause.type) {
    return { code: cause.type, message: cause.message };
  }
  if (cause instanceof TimeoutFailure) {
    return { code: StepErrors.DependencyUnavailable, message: 'a step kept failing until its time ran out' };
  }
  return { code: StepErrors.DependencyUnavailable, message: 'a step failed and could not be completed' };
}
