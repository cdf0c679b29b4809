// Zod schemas shared by the routes: they validate requests and generate the OpenAPI document (one source).
import { createRoute, z } from '@hono/zod-openapi';

export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'only letters, digits and _ . : -')
  .openapi({ example: 'acc-1' });
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 code of three capital letters')
  .openapi({ example: 'USD' });
export const Amount = z
  .number()
  .int('an integer count of minor units')
  .min(1)
  .max(1e12)
  .openapi({ description: 'Integer minor units (cents), 1 to 10^12', example: 2500 });
export const Text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s), 'control characters are not allowed')
    .refine((s) => !/\p{Cs}/u.test(s), 'unpaired surrogates are not allowed (not valid Unicode)')
    .refine((s) => s.trim().length > 0, 'must not be blank');
export const Timestamp = z.string().openapi({ format: 'date-time' });

/** `?limit=&cursor=` of a newest-first page; the cursor is the last id of the previous page. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).optional(),
  cursor: z.string().regex(/^[0-9]{1,19}$/, 'a cursor returned by a previous page').optional(),
});

export const Step = z
  .object({ name: z.string(), status: z.enum(['pending', 'running', 'done', 'compensating', 'compensated', 'failed']), at: Timestamp.nullable() })
  .openapi('Step');

export function envelopeOf<T extends z.ZodTypeAny>(data: T, name: string) {
  return z
    .object({ code: z.literal(200), message: z.string(), data, traceId: z.string() })
    .openapi(name);
}

export const ErrorEnvelope = z
  .object({
    code: z.number().int().openapi({ example: 4000 }),
    message: z.string(),
    data: z
      .object({ errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(), reason: z.string().optional() })
      .passthrough()
      .nullable(),
    traceId: z.string(),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({ content: { 'application/json': { schema: ErrorEnvelope } }, description });

/** The error responses every /v1 route can give. */
export const commonErrors = {
  400: errorResponse('Malformed request (4000)'),
  401: errorResponse('Missing or invalid API key (4010)'),
  413: errorResponse('Body too large (4130)'),
  429: errorResponse('Rate limited (4290)'),
  500: errorResponse('Internal error (5000)'),
  503: errorResponse('A dependency is unavailable (5030)'),
} as const;
export const notFoundResponse = { 404: errorResponse('No such resource (4040)') } as const;
export const conflictResponse = { 409: errorResponse('Conflict (4090)') } as const;
export const rejectedResponse = { 422: errorResponse('Business rejection known before starting (4001)') } as const;

export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});
export const jsonResponse = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export const FlowHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, '1-128 characters of A-Z a-z 0-9 _ . : -')
    .optional()
    .openapi({
      description:
        'Same key + same body → the same flow; same key + other body → 409. Required in production (400 without it): a retry without a key is a new flow.',
    }),
  prefer: z
    .string()
    .regex(/^\s*wait=([1-9]|[12][0-9]|30)\s*$/, 'wait=N with N an integer from 1 to 30')
    .optional()
    .openapi({ description: 'wait=N: wait up to N seconds for the flow to finish (200), else 202' }),
});

export function waitSeconds(prefer: string | undefined): number {
  const m = prefer?.match(/wait=(\d+)/);
  return m ? Number(m[1]) : 0;
}

/**
 * The two routes every flow has: `POST /` that starts it (Idempotency-Key, Prefer: wait → 200 or 202 + Location) and
 * `GET /{id}` that reads it with its steps. One definition, so every flow documents the same contract in OpenAPI.
 */
export function flowRoutes<B extends z.ZodTypeAny, E extends z.ZodTypeAny>(noun: string, body: B, envelope: E, summary: string) {
  return {
    create: createRoute({
      method: 'post',
      path: '/',
      summary,
      request: { ...jsonBody(body), headers: FlowHeaders },
      responses: {
        200: jsonResponse(envelope, `The ${noun} finished within Prefer: wait`),
        202: jsonResponse(envelope, `The ${noun} is running; Location points to it`),
        ...rejectedResponse,
        ...conflictResponse,
        ...commonErrors,
      },
    }),
    get: createRoute({
      method: 'get',
      path: '/{id}',
      summary: `Read ${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun} with its steps`,
      request: { params: z.object({ id: Id }) },
      responses: { 200: jsonResponse(envelope, `The ${noun}`), ...notFoundResponse, ...commonErrors },
    }),
  };
}
