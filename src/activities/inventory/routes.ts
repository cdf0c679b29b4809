// /v1/products — the catalogue the checkout flow reserves stock from.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Sequelize } from 'sequelize';
import { exec } from '../../platform/db/sql';
import type { AppDeps, AppEnv, Mount } from '../../platform/http/deps';
import { conflict, notFound, ok } from '../../platform/http/envelope';
import { Amount, commonErrors, conflictResponse, Currency, envelopeOf, Id, jsonBody, jsonResponse, notFoundResponse, Text } from '../../platform/http/schemas';
import { validationHook } from '../../platform/http/validation';
import { findProducts } from './reads';

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

async function findProduct(db: Sequelize, sku: string) {
  const [p] = await findProducts(db, [sku]);
  return p;
}

export function productsRouter({ stores }: AppDeps): Mount {
  const db = stores.db('inventory');
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  router.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const inserted = await exec(
      db,
      `INSERT INTO products (sku, name, price, currency, stock, reserved, created_at, updated_at)
       SELECT ?, ?, ?, ?, ?, 0, NOW(3), NOW(3) FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM products WHERE sku = ?)`,
      [body.sku, body.name, body.price, body.currency, body.stock, body.sku],
    ).catch((err) => {
      if ((err as { parent?: { code?: string } })?.parent?.code === 'ER_DUP_ENTRY') return 0;
      throw err;
    });
    if (inserted !== 1) throw conflict(`product ${body.sku} already exists`);
    return ok(c, (await findProduct(db, body.sku))!, 201);
  });
  router.openapi(get, async (c) => {
    const product = await findProduct(db, c.req.valid('param').sku);
    if (!product) throw notFound('product');
    return ok(c, product);
  });
  return { path: '/v1/products', router };
}
