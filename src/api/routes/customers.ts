// /v1/customers/{id}/points — loyalty points awarded by confirmed orders.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { select } from '../../db/sql';
import type { AppDeps, AppEnv } from '../deps';
import { ok } from '../envelope';
import { validationHook } from '../middleware/errors';
import { commonErrors, envelopeOf, Id, jsonResponse } from '../schemas';

const Points = z.object({ customerId: z.string(), balance: z.number().int() }).openapi('Points');

const points = createRoute({
  method: 'get',
  path: '/{id}/points',
  summary: "A customer's points balance",
  request: { params: z.object({ id: Id }) },
  responses: { 200: jsonResponse(envelopeOf(Points, 'PointsEnvelope'), 'The balance (0 for a customer with none)'), ...commonErrors },
});

export function customersRouter({ db }: AppDeps) {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  router.openapi(points, async (c) => {
    const { id } = c.req.valid('param');
    const [row] = await select<{ balance: number }>(db, 'SELECT COALESCE(SUM(points), 0) AS balance FROM points_entries WHERE customer_id = ?', [id]);
    return ok(c, { customerId: id, balance: Number(row.balance) });
  });
  return router;
}
