// /v1/ops/dead-letters: the messages consumers gave up on, for operators — listed newest first, and replayed one by one
// into their consumer's queue. An API key is required even in development (where the rest of the API may run open).
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { deadLettersPage, deadLetterView, replayDeadLetter } from '../../platform/dead-letters';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { conflict, notFound, ok, unavailable } from '../../platform/http/envelope';
import { commonErrors, conflictResponse, envelopeOf, jsonResponse, notFoundResponse, PageQuery, Timestamp } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { operatorsOnly } from '../middleware/auth';

const DeadLetter = z
  .object({
    id: z.string(),
    consumer: z.string(),
    eventId: z.string().nullable(),
    type: z.string().nullable(),
    attempts: z.number().int(),
    error: z.string().nullable(),
    deadAt: Timestamp,
    replayedAt: Timestamp.nullable(),
  })
  .openapi('DeadLetter');
const Page = z.object({ items: z.array(DeadLetter), nextCursor: z.string().nullable() }).openapi('DeadLetters');

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'Messages a consumer gave up on (newest first; API key required)',
  request: { query: PageQuery },
  responses: { 200: jsonResponse(envelopeOf(Page, 'DeadLettersEnvelope'), 'A page of dead letters'), ...commonErrors },
});
const replay = createRoute({
  method: 'post',
  path: '/{id}/replay',
  summary: "Send a dead letter back to its consumer's queue (applied at most once: the consumer's inbox)",
  request: { params: z.object({ id: z.string().regex(/^[0-9]{1,19}$/, 'a dead letter id') }) },
  responses: { 200: jsonResponse(envelopeOf(DeadLetter, 'DeadLetterEnvelope'), 'Replayed'), ...notFoundResponse, ...conflictResponse, ...commonErrors },
});

export function deadLettersRouter({ stores, broker, config }: AppDeps): Mount {
  const db = stores.db('api');
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Dead letters hold every service's events: operators' principals only (API_OPERATOR_IDS), never "anonymous".
  router.use('*', operatorsOnly(config.api.operators));
  router.openapi(list, async (c) => {
    const { limit = 50, cursor } = c.req.valid('query');
    return ok(c, await deadLettersPage(db, limit, cursor));
  });
  router.openapi(replay, async (c) => {
    if (!broker) throw unavailable('the broker');
    const r = await replayDeadLetter(db, broker.publisher, broker.names, c.req.valid('param').id).catch((err) => {
      if (/timed out|closed|connection/i.test(String(err?.message))) throw unavailable('the broker');
      throw err;
    });
    if (r.outcome === 'not-found') throw notFound('dead letter');
    if (r.outcome === 'already-replayed') throw conflict('this dead letter was already replayed');
    return ok(c, deadLetterView(r.row));
  });
  return { path: '/v1/ops/dead-letters', router };
}
