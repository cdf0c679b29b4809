// The single place where failures become responses: every error maps to the envelope with its HTTP status, and no
// stack, SQL or payload ever leaves the process (internal errors are logged by type and message only).
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isTransientDbError } from '../../platform/db/transient';
import { ApiError, Codes, fail } from '../../platform/http/envelope';
import type { Logger } from '../../platform/logger';

const unavailableGrpc = new Set([4, 14]); // DEADLINE_EXCEEDED, UNAVAILABLE

function isTemporalUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: number; cause?: unknown };
  if (e?.name === 'ServiceError' || e?.name === 'TransportError' || e?.name === 'ConnectionError') {
    const code = (e.cause as { code?: number } | undefined)?.code ?? e.code;
    return code === undefined || unavailableGrpc.has(code);
  }
  return typeof e?.code === 'number' && unavailableGrpc.has(e.code) && 'details' in (e as object);
}

/** NamespaceNotFoundError, or the NOT_FOUND (5) a frontend answers for the namespace itself. */
function isNamespaceNotFound(err: unknown): boolean {
  const e = err as { name?: string; code?: number; message?: string; cause?: { code?: number; message?: string } };
  if (e?.name === 'NamespaceNotFoundError') return true;
  const code = e?.cause?.code ?? e?.code;
  return code === 5 && /namespace .* (is )?not found/i.test(`${e?.message ?? ''} ${e?.cause?.message ?? ''}`);
}

const httpToCode: Record<number, ApiError['code']> = {
  400: Codes.badRequest,
  401: Codes.unauthorized,
  404: Codes.notFound,
  409: Codes.conflict,
  413: Codes.tooLarge,
  415: Codes.badRequest,
  429: Codes.rateLimited,
  503: Codes.unavailable,
  504: Codes.unavailable,
};

export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const code = httpToCode[err.status];
    if (code) {
      const message = err.status === 400 ? 'malformed request body' : err.message || 'request failed';
      return new ApiError(code, message, code === Codes.badRequest ? { errors: [{ path: 'body', message }] } : null);
    }
  }
  // Unreachable, restarting, out of connections, a connection the server ended mid-query, a deadlock victim: retry.
  if (isTransientDbError(err)) return new ApiError(Codes.unavailable, 'the database is unavailable; safe to retry');
  // An update (approve, cancel) that no worker processed before its deadline, e.g. right after a worker died.
  if ((err as Error)?.name === 'WorkflowUpdateRPCTimeoutOrCancelledError') {
    return new ApiError(Codes.unavailable, 'the flow did not answer in time; safe to retry');
  }
  if (isTemporalUnavailable(err)) return new ApiError(Codes.unavailable, 'Temporal is unavailable; safe to retry');
  // A frontend whose namespace cache is empty right after its persistence restarted answers "namespace not found" for
  // a namespace that exists: the configured namespace never goes away under a running API, so it is a moment to retry.
  if (isNamespaceNotFound(err)) return new ApiError(Codes.unavailable, 'Temporal is unavailable; safe to retry');
  // A cancel (or signal) for a flow that closed between the read that found it running and the call: the flow exists
  // (its read came first), it is just over — a conflict with its state, like an order's (409), not an internal error.
  if (err instanceof WorkflowNotFoundError) return new ApiError(Codes.conflict, 'the flow has already finished');
  return null;
}

export function errorHandler(log: Logger) {
  return (err: Error, c: Context) => {
    const known = toApiError(err);
    if (known) {
      if (known.code >= 5000) log.warn({ traceId: c.get('requestId'), errorType: err.name, reason: known.message }, 'dependency unavailable');
      return fail(c, known);
    }
    log.error({ traceId: c.get('requestId'), errorType: err?.name, error: String(err?.message ?? err).slice(0, 200) }, 'internal error');
    return fail(c, new ApiError(Codes.internal, 'internal error'));
  };
}

export function notFoundHandler(c: Context) {
  return fail(c, new ApiError(Codes.notFound, `no route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 100)}`));
}
