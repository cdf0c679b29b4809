// /v1/products — the catalogue the checkout flow reserves stock from.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { UniqueConstraintError } from 'sequelize';
import { Product } from '../../db/models';
import type { AppDeps, AppEnv } from '../deps';
import { conflict, notFound, ok } from '../envelope';
import { validationHook } from '../middleware/errors';
import { Amount, commonErrors, conflictResponse, Currency, envelopeOf, Id, jsonBody, jsonResponse, notFoundResponse, Text } from '../schemas';

const CreateProduct = z
  .object({ sku: Id, name: Text(200), price: Amount, currency: Currency, stock: z.number().int().min(0).max(1e9) })
  .openapi('CreateProduct');
const ProductView = z
  .object({ sku: z.string(), name: z.string(), price: z.number().int(), currency: z.string(), stock: z.number().int(), reserved: z.number().int() })
  .openapi('Product');
const ProductEnvelope = envelopeOf(ProductView, 'ProductEnvelope');

const create = createRoute({
  method: 'post',
  path: '/',
  summary: 'Create a product',
  request: jsonBody(CreateProduct),
  responses: { 201: jsonResponse(ProductEnvelope, 'The new product'), ...conflictResponse, ...commonErrors },
});
const get = createRoute({
  method: 'get',
  path: '/{sku}',
  summary: 'Read a product with its stock and reserved units',
  request: { params: z.object({ sku: Id }) },
  responses: { 200: jsonResponse(ProductEnvelope, 'The product'), ...notFoundResponse, ...commonErrors },
});

const view = (p: Product) => ({ sku: p.sku, name: p.name, price: Number(p.price), currency: p.currency, stock: p.stock, reserved: p.reserved });

export function productsRouter(_deps: AppDeps) {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    try {
      const product = await Product.create({ ...body, reserved: 0 });
      return ok(c, view(product), 201);
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw conflict(`product ${body.sku} already exists`);
      throw err;
    }
  });
  router.openapi(get, async (c) => {
    const product = await Product.findByPk(c.req.valid('param').sku);
    if (!product) throw notFound('product');
    return ok(c, view(product));
  });
  return router;
}
