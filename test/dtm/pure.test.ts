// Pure pieces of the DTM coordinator: how a participant's answer reads, the coordinator's own answers, the retry
// delays, the branch URL allow list, and how lenient bodies are read.
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/activities/dtm/activities';
import { answerOf, readAnswer } from '../../src/activities/dtm/contract';
import { allowedByList } from '../../src/platform/url-allow';
import { TransBodySchema, transBodyOf } from '../../src/workflows/dtm/body';

describe('the DTM protocol, decided in one place', () => {
  it('when a participant answers, then 425 or ONGOING retries, 409 or FAILURE fails, 200 succeeds, anything else is an error', () => {
    expect(readAnswer(200, '{"dtm_result":"SUCCESS"}')).toBe('SUCCESS');
    expect(readAnswer(200, '')).toBe('SUCCESS');
    expect(readAnswer(200, '{"dtm_result":"FAILURE"}')).toBe('FAILURE');
    expect(readAnswer(409, '')).toBe('FAILURE');
    expect(readAnswer(425, '')).toBe('ONGOING');
    expect(readAnswer(200, 'ONGOING')).toBe('ONGOING');
    expect(readAnswer(500, 'oops')).toBe('ERROR');
    expect(readAnswer(0, 'connection failed')).toBe('ERROR');
  });

  it('when the coordinator answers, then SUCCESS is 200 with no message (never the word FAILURE), FAILURE 409, ONGOING 425', () => {
    expect(answerOf('SUCCESS', 'ignored')).toEqual({ status: 200, body: { dtm_result: 'SUCCESS' } });
    expect(answerOf('FAILURE', 'why')).toEqual({ status: 409, body: { dtm_result: 'FAILURE', message: 'why' } });
    expect(answerOf('ONGOING').status).toBe(425);
  });

  it('when a call must be retried, then ONGOING keeps the interval and an error doubles it per attempt, capped at an hour', () => {
    expect([1, 2, 3].map((n) => retryDelayMs('ONGOING', 1000, n))).toEqual([1000, 1000, 1000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs('ERROR', 1000, n))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs('ERROR', 10_000, 40)).toBe(3600_000);
  });
});

describe('DTM_BRANCH_URL_ALLOW', () => {
  const allow = ['http://*.svc.cluster.local:8080/*', 'https://pay.example.com/api/*'];
  it('when a URL matches a pattern, then it is allowed; a star never crosses into the path, and the scheme counts', () => {
    expect(allowedByList(new URL('http://srv-a.svc.cluster.local:8080/transfer_out?x=1'), allow)).toBe(true);
    expect(allowedByList(new URL('https://pay.example.com/api/v1/charge'), allow)).toBe(true);
    expect(allowedByList(new URL('http://evil.com/x.svc.cluster.local:8080/y'), allow)).toBe(false);
    expect(allowedByList(new URL('http://pay.example.com/api/v1/charge'), allow)).toBe(false);
    expect(allowedByList(new URL('https://pay.example.com/admin'), allow)).toBe(false);
    expect(allowedByList(new URL('http://srv-a.svc.cluster.local:9090/x'), allow)).toBe(false);
    expect(allowedByList(new URL('http://127.0.0.1/x'), [])).toBe(false);
  });
});

describe('DTM request bodies', () => {
  it('when a body has nulls, unknown keys and base64 bin_payloads, then it reads as DTM does', () => {
    const parsed = TransBodySchema.parse({
      gid: 'g1',
      trans_type: 'saga',
      steps: [{ action: 'http://a/x', compensate: null }],
      bin_payloads: [Buffer.from('{"amount":1}').toString('base64')],
      custom_data: null,
      wait_result: null,
      branch_headers: { 'x-a': 'b' },
      passthrough_headers: [],
      anything: { new: true },
    });
    const body = transBodyOf(parsed);
    expect(body).toMatchObject({ gid: 'g1', steps: [{ action: 'http://a/x' }], payloads: ['{"amount":1}'], customData: '', options: { waitResult: false, branchHeaders: { 'x-a': 'b' } } });
    expect(TransBodySchema.safeParse({ gid: 'g 1', trans_type: 'saga' }).success).toBe(false);
    expect(TransBodySchema.safeParse({ gid: 'g1', trans_type: 'workflow' }).success).toBe(false);
  });
});
