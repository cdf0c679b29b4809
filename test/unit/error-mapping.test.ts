// The API's error mapping (src/api/middleware/errors.ts): what a failure that reaches app.onError answers.
import { WorkflowNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { toApiError } from '../../src/api/middleware/errors';
import { Codes } from '../../src/platform/http/envelope';

describe('toApiError', () => {
  it('when a cancel reaches a transfer that closed after its read found it running (Temporal: not found), then the answer is 409, not 500', () => {
    const err = new WorkflowNotFoundError('workflow execution already completed', 'transfer-abc', undefined);
    const mapped = toApiError(err);
    expect(mapped?.code).toBe(Codes.conflict);
    expect(mapped?.message).toBe('the flow has already finished');
  });

  it('when an unknown error arrives, then it is not mapped (the handler answers 500 without details)', () => {
    expect(toApiError(new Error('boom'))).toBeNull();
  });
});
