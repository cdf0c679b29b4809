// The OpenAPI document (generated from the routes' zod schemas) and an interactive docs page. Swagger UI's assets are
// served from the installed swagger-ui-dist package, so the page works without internet access.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { events } from '../../events/catalog';
import { asyncApiDocument } from '../../platform/asyncapi';
import { brokerNames } from '../../platform/broker';
import type { AppDeps, AppEnv } from '../../platform/http/deps';

const assets = (() => {
  const dir = require('swagger-ui-dist').getAbsoluteFSPath() as string;
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { 'swagger-ui.css': read('swagger-ui.css'), 'swagger-ui-bundle.js': read('swagger-ui-bundle.js') };
})();

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sagaflow API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/assets/init.js"></script></body></html>`;
const init = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });`;

export function mountDocs(app: OpenAPIHono<AppEnv>, { config }: Pick<AppDeps, 'config'>) {
  const broker = new URL(config.broker.url);
  const asyncapi = asyncApiDocument(events, { exchange: brokerNames(config.broker.prefix).exchange, version: '1.0.0', host: broker.host });
  app.get('/asyncapi.json', (c) => c.json(asyncapi));
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'sagaflow',
      version: '1.0.0',
      description: 'Durable business transactions: transfers (saga) and order checkout (TCC) with exactly-once effects.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.get('/docs', (c) => c.html(page));
  app.get('/docs/assets/init.js', (c) => c.body(init, 200, { 'Content-Type': 'text/javascript' }));
  app.get('/docs/assets/:file{(?:swagger-ui\\.css|swagger-ui-bundle\\.js)}', (c) => {
    const file = c.req.param('file') as keyof typeof assets;
    const type = file.endsWith('.css') ? 'text/css' : 'text/javascript';
    return c.body(assets[file], 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  });
}
