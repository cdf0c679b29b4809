// Turns the failure that stopped a flow into the reason users see: business rejections keep their type; a forward
// step that exhausted its schedule-to-close budget is a dependency that was unavailable.
import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import { BusinessErrors, isBusinessErrorType } from '../shared/errors';
import type { FlowReason } from '../shared/flows';

export function reasonOf(err: unknown): FlowReason {
  if (isCancellation(err)) return { code: BusinessErrors.Cancelled, message: 'cancelled by an operator' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && isBusinessErrorType(cause.type)) {
    return { code: cause.type!, message: cause.message };
  }
  if (cause instanceof TimeoutFailure) {
    return { code: BusinessErrors.DependencyUnavailable, message: 'a step kept failing until its time ran out' };
  }
  return { code: BusinessErrors.DependencyUnavailable, message: 'a step failed and could not be completed' };
}
