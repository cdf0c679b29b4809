// The response envelope `{ code, message, data, traceId }` and the errors that map onto it (see shared/API.md).
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const Codes = {
  ok: 200,
  badRequest: 4000,
  rejected: 4001,
  unauthorized: 4010,
  forbidden: 4030,
  notFound: 4040,
  conflict: 4090,
  tooLarge: 4130,
  rateLimited: 4290,
  internal: 5000,
  unavailable: 5030,
} as const;

const httpOf: Record<number, ContentfulStatusCode> = {
  4000: 400,
  4001: 422,
  4010: 401,
  4030: 403,
  4040: 404,
  4090: 409,
  4130: 413,
  4290: 429,
  5000: 500,
  5030: 503,
};

export class ApiError extends Error {
  constructor(
    readonly code: Exclude<(typeof Codes)[keyof typeof Codes], 200>,
    message: string,
    readonly data: Record<string, unknown> | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  get status(): ContentfulStatusCode {
    return httpOf[this.code];
  }
}

export const notFound = (what: string) => new ApiError(Codes.notFound, `${what} not found`);
export const rejected = (message: string, reasonCode: string) => new ApiError(Codes.rejected, message, { reason: reasonCode });
export const conflict = (message: string) => new ApiError(Codes.conflict, message);
export const unavailable = (what: string) => new ApiError(Codes.unavailable, `${what} is unavailable; safe to retry`);

export function envelope(c: Context, code: number, message: string, data: unknown) {
  return { code, message, data: data ?? null, traceId: (c.get('requestId') as string | undefined) ?? '' };
}

export function ok<T, S extends 200 | 201 | 202 = 200>(c: Context, data: T, status?: S, headers: Record<string, string> = {}) {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  const body = { code: Codes.ok, message: 'ok', data, traceId: (c.get('requestId') as string | undefined) ?? '' };
  return c.json(body, (status ?? 200) as S);
}

/** Seconds a client should wait before retrying a 503 (a dependency restarting, a replica draining). */
export const RETRY_AFTER_UNAVAILABLE_S = 2;

export function fail(c: Context, err: ApiError) {
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  if (err.code === Codes.unavailable && !err.headers['Retry-After']) c.header('Retry-After', String(RETRY_AFTER_UNAVAILABLE_S));
  return c.json(envelope(c, err.code, err.message, err.data), err.status);
}
