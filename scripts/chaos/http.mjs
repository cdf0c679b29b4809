// The chaos run's HTTP client. Every answer is checked against the contract (/work/shared/API.md): a JSON envelope
// `{ code, message, data, traceId }` whose code matches the HTTP status and whose traceId equals X-Request-Id. A 500,
// a body that is not the envelope, or a network error (outside an api-restart fault) is a violation.
/* global AbortSignal, Headers */
import { setTimeout as sleep } from 'node:timers/promises';

const codeOf = { 200: 200, 201: 200, 202: 200, 400: 4000, 401: 4010, 404: 4040, 409: 4090, 413: 4130, 422: 4001, 429: 4290, 500: 5000, 503: 5030 };
/** Answers after which the same request may be sent again: a dependency was down, or the answer was lost. */
const RETRYABLE = new Set([0, 429, 500, 503]);
/**
 * Behind the load balancer (--ha) a replica may die with requests on it: HAProxy answers 502/504 (its own page, not
 * the envelope) or the connection drops. The client retries those with the same key; only an answer that stays so
 * after the retries is a finding (scripts/chaos/invariants/unrecovered-5xx.mjs).
 */
const LB_RETRYABLE = new Set([0, 429, 500, 502, 503, 504]);
/** HAProxy's own answers: 502/504, and 503 "no server is available" (every replica out of the pool), without X-Request-Id. */
const fromBalancer = (status, headers) => status === 0 || status === 502 || status === 504 || (status === 503 && !headers?.get('x-request-id'));

export class Api {
  constructor(base, rec, { timeoutMs = 45_000, loadBalanced = false } = {}) {
    this.base = base;
    this.rec = rec;
    this.timeoutMs = timeoutMs;
    this.loadBalanced = loadBalanced;
  }

  /** One request. Returns { status, body, headers }; status 0 means no answer (network error). Never throws. */
  async request(method, path, { body, headers = {}, route = `${method} ${path}`, startsFlow = false } = {}) {
    const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(this.timeoutMs) };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    let text;
    try {
      res = await fetch(this.base + path, init);
      text = await res.text();
    } catch (err) {
      this.rec.httpStatus(route, 'network');
      // Behind the load balancer, or while the API is being restarted on purpose: judged once retried.
      if (this.loadBalanced || this.rec.active.has('api-restart')) return { status: 0, body: null, headers: new Headers() };
      this.rec.violation('network-error', { route, error: `${err.name}: ${err.cause?.code ?? err.cause?.message ?? err.message}` });
      return { status: 0, body: null, headers: new Headers() };
    }
    this.rec.httpStatus(route, res.status);
    let parsed = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* checked below */
    }
    if (this.loadBalanced && fromBalancer(res.status, res.headers)) return { status: res.status, body: parsed, headers: res.headers };
    const problem = envelopeProblem(res, parsed, startsFlow);
    if (problem) this.rec.violation('non-envelope', { route, status: res.status, problem, body: text.slice(0, 200) });
    if (res.status === 500) this.rec.violation('http-500', { route, message: parsed?.message, traceId: parsed?.traceId });
    else if (res.status >= 500 && res.status !== 503) this.rec.violation('http-5xx', { route, status: res.status });
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /**
   * Repeats a request while the answer says "try again" (503, 429, a lost answer, or a 500 — already a violation),
   * with a capped backoff, until another answer or `deadlineMs`. Flow-starting POSTs repeat the same
   * Idempotency-Key, which is exactly what the contract allows.
   */
  async untilAnswered(method, path, opts = {}, { deadlineMs = 5 * 60_000 } = {}) {
    const deadline = Date.now() + deadlineMs;
    let wait = 200;
    const retryable = this.loadBalanced ? LB_RETRYABLE : RETRYABLE;
    for (let attempt = 1; ; attempt++) {
      const r = await this.request(method, path, opts);
      r.attempts = attempt;
      if (this.loadBalanced && attempt > 1 && !retryable.has(r.status)) this.rec.recovered5xx = (this.rec.recovered5xx ?? 0) + 1;
      if (this.loadBalanced && retryable.has(r.status) && r.status !== 429 && Date.now() > deadline) {
        (this.rec.unrecovered ??= []).push({ route: opts.route ?? `${method} ${path}`, status: r.status, attempts: attempt });
      }
      if (!retryable.has(r.status) || Date.now() > deadline) return r;
      const retryAfter = Number(r.headers.get('retry-after')) * 1000;
      await sleep(retryAfter > 0 ? retryAfter : wait);
      wait = Math.min(wait * 2, 2_000);
    }
  }
}

function envelopeProblem(res, b, startsFlow) {
  if (!(res.headers.get('content-type') ?? '').includes('application/json')) return `content-type ${res.headers.get('content-type')}`;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return 'body is not a JSON object';
  if (!Number.isInteger(b.code)) return 'code is not an integer';
  if (typeof b.message !== 'string') return 'message is not a string';
  if (!('data' in b) || (b.data !== null && typeof b.data !== 'object')) return 'data is not an object or null';
  if (typeof b.traceId !== 'string' || !b.traceId) return 'traceId missing';
  if (b.traceId !== res.headers.get('x-request-id')) return 'traceId differs from X-Request-Id';
  const want = codeOf[res.status];
  if (want === undefined) return `unexpected HTTP status ${res.status}`;
  if (b.code !== want) return `code ${b.code} does not match HTTP ${res.status}`;
  if (startsFlow && res.status === 202 && !res.headers.get('location')) return '202 from a flow-starting POST without Location';
  return null;
}
