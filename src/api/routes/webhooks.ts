// /v1/webhooks: register an endpoint for event types (its secret is shown once, in the 201), read or delete it, and
// page through its deliveries. Production accepts only https URLs whose host resolves to public addresses.
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { eventTypes } from '../../events/catalog';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { ApiError, Codes, notFound, ok } from '../../platform/http/envelope';
import { commonErrors, envelopeOf, jsonBody, jsonResponse, notFoundResponse, PageQuery, Text, Timestamp } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { newSecret } from '../../platform/webhooks/signature';
import { Keyring, sealText } from '../../platform/codec/keyring';
import { deleteWebhook, deliveriesPage, findWebhook, insertWebhook, webhookView } from '../../platform/webhooks/store';
import { checkUrl, UnsafeUrlError } from '../../platform/webhooks/url-guard';

const EventType = z.enum(eventTypes as [string, ...string[]]).openapi({ example: 'order.confirmed' });
const CreateWebhook = z
  .object({
    url: z.string().min(1).max(2048).openapi({ example: 'https://example.com/hooks/sagaflow' }),
    events: z.array(EventType).min(1).max(eventTypes.length),
    description: Text(512).optional(),
  })
  .strict()
  .openapi('CreateWebhook');
const WebhookView = z
  .object({ id: z.string(), url: z.string(), events: z.array(z.string()), description: z.string().optional(), createdAt: Timestamp })
  .openapi('Webhook');
const CreatedWebhook = WebhookView.extend({ secret: z.string().openapi({ description: 'Shown once: sign-check deliveries with it' }) }).openapi('CreatedWebhook');
const Delivery = z
  .object({
    eventId: z.string(),
    type: z.string(),
    attempt: z.number().int(),
    status: z.enum(['pending', 'delivered', 'failed']),
    responseStatus: z.number().int().optional(),
    error: z.string().optional(),
    nextAttemptAt: Timestamp.optional(),
    deliveredAt: Timestamp.optional(),
  })
  .openapi('WebhookDelivery');
const DeliveriesPage = z.object({ items: z.array(Delivery), nextCursor: z.string().nullable() }).openapi('WebhookDeliveries');
const Params = z.object({ id: z.uuid() });

const create = createRoute({
  method: 'post',
  path: '/',
  summary: 'Register a webhook endpoint for event types (the secret is returned once)',
  request: jsonBody(CreateWebhook),
  responses: { 201: jsonResponse(envelopeOf(CreatedWebhook, 'CreatedWebhookEnvelope'), 'The webhook and its secret'), ...commonErrors },
});
const read = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'A webhook registration (without its secret)',
  request: { params: Params },
  responses: { 200: jsonResponse(envelopeOf(WebhookView, 'WebhookEnvelope'), 'The webhook'), ...notFoundResponse, ...commonErrors },
});
const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  summary: 'Delete a webhook (pending deliveries are dropped)',
  request: { params: Params },
  responses: { 204: { description: 'Deleted' }, ...notFoundResponse, ...commonErrors },
});
const deliveries = createRoute({
  method: 'get',
  path: '/{id}/deliveries',
  summary: "A webhook's deliveries with their attempts, newest first, cursor-paginated",
  request: { params: Params, query: PageQuery },
  responses: { 200: jsonResponse(envelopeOf(DeliveriesPage, 'WebhookDeliveriesEnvelope'), 'A page of deliveries'), ...notFoundResponse, ...commonErrors },
});

export function webhooksRouter({ stores, config }: AppDeps): Mount {
  const db = stores.db('api');
  const keyring = new Keyring(config.codec.keys);
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    try {
      await checkUrl(body.url, { production: config.env === 'production', allowHosts: c.get('config').allow.webhookHosts });
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw new ApiError(Codes.badRequest, `url ${err.message}`, { errors: [{ path: 'url', message: err.message }] });
      throw err;
    }
    const row = { id: randomUUID(), principal: c.get('principal'), url: body.url, events: JSON.stringify([...new Set(body.events)]), description: body.description ?? null, secret: newSecret() };
    // Stored sealed under the payload keyring (PAYLOAD_KEYS); shown in clear once, here.
    await insertWebhook(db, { ...row, secret: sealText(keyring, row.secret) });
    const saved = (await findWebhook(db, row.id, row.principal))!;
    return ok(c, { ...webhookView(saved), secret: row.secret }, 201, { Location: `/v1/webhooks/${row.id}` });
  });
  router.openapi(read, async (c) => {
    const w = await findWebhook(db, c.req.valid('param').id, c.get('principal'));
    if (!w) throw notFound('webhook');
    return ok(c, webhookView(w));
  });
  router.openapi(remove, async (c) => {
    if (!(await deleteWebhook(db, c.req.valid('param').id, c.get('principal')))) throw notFound('webhook');
    return c.body(null, 204);
  });
  router.openapi(deliveries, async (c) => {
    const { id } = c.req.valid('param');
    const { limit = 50, cursor } = c.req.valid('query');
    if (!(await findWebhook(db, id, c.get('principal')))) throw notFound('webhook');
    return ok(c, await deliveriesPage(db, id, limit, cursor));
  });
  return { path: '/v1/webhooks', router };
}
