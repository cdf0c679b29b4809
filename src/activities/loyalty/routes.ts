// /v1/customers/{id}/points — loyalty points awarded by confirmed orders.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { select } from '../../platform/db/sql';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { ok } from '../../platform/http/envelope';
import { commonErrors, envelopeOf, Id, jsonResponse } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';

const Points = z.object({ customerId: z.string(), balance: z.number().int() }).openapi('Points');

const points = createRoute({
  method: 'get',
  path: '/{id}/points',
  summary: "A customer's points balance",
  request: { params: z.object({ id: Id }) },
  responses: { 200: jsonResponse(envelopeOf(Points, 'PointsEnvelope'), 'The balance (0 for a customer with none)'), ...commonErrors },
});

export function customersRouter({ stores }: AppDeps): Mount {
  const db = stores.db('loyalty');
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  router.openapi(points, async (c) => {
    const { id } = c.req.valid('param');
    const [row] = await select<{ balance: number }>(db, 'SELECT COALESCE(SUM(points), 0) AS balance FROM points_entries WHERE customer_id = ?', [id]);
    return ok(c, { customerId: id, balance: Number(row.balance) });
  });
  return { path: '/v1/customers', router };
}
