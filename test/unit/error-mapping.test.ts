// The API's error mapping (src/api/middleware/errors.ts): what a failure that reaches app.onError answers.
import { WorkflowNotFoundError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
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

  it('when a frontend answers "namespace not found" right after its persistence restarted, then the answer is 503 (retry), not 500', () => {
    expect(toApiError(new NamespaceNotFoundError('default'))?.code).toBe(Codes.unavailable);
    const grpc = Object.assign(new Error('5 NOT_FOUND: Namespace default is not found.'), { code: 5, details: 'Namespace default is not found.' });
    expect(toApiError(Object.assign(new Error('request failed'), { name: 'ServiceError', cause: grpc }))?.code).toBe(Codes.unavailable);
  });

  it('when an unknown error arrives, then it is not mapped (the handler answers 500 without details)', () => {
    expect(toApiError(new Error('boom'))).toBeNull();
  });
});
