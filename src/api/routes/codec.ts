// The codec server: POST /codec/encode and /codec/decode in the remote-codec protocol the Temporal Web UI and CLI
// speak (Payloads as protobuf JSON in and out), so operators see decoded payloads without the keys leaving this API.
// Authenticated as the rest of the API (a bearer key; open only in development without API_KEYS). A browser may call
// it from one origin only, the Web UI's (CODEC_CORS_ORIGIN): any other Origin is refused outright, not merely left
// without CORS headers.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec } from '../../platform/codec/encryption-codec';
import { Keyring, UnknownKeyError } from '../../platform/codec/keyring';
import type { AppDeps, AppEnv } from '../../platform/http/deps';
import { ApiError, Codes } from '../../platform/http/envelope';
import type { MiddlewareHandler } from 'hono';
import { codecAuth, signIn, signInForm } from '../middleware/codec-session';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const { Payloads } = temporal.api.common.v1;

/** `{ payloads: [{ metadata: { k: base64 }, data: base64 }] }` ⇄ Payload objects (protobuf JSON: bytes as base64). */
function readPayloads(body: unknown): Payload[] {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { payloads?: unknown }).payloads)) {
    throw new ApiError(Codes.badRequest, 'expected { payloads: [...] }', { errors: [{ path: 'payloads', message: 'required array' }] });
  }
  try {
    return Payloads.fromObject(body).payloads as Payload[];
  } catch {
    throw new ApiError(Codes.badRequest, 'payloads are not protobuf JSON', { errors: [{ path: 'payloads', message: 'not protobuf JSON' }] });
  }
}
const writePayloads = (payloads: Payload[]) => Payloads.toObject(Payloads.create({ payloads }), { bytes: String });

/**
 * Refuses a browser request from any origin but the Web UI's and the API's own (the sign-in form); requests without an
 * Origin (CLI, scripts) pass.
 */
function originGuard(allowed: string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && origin !== allowed && origin !== new URL(c.req.url).origin) {
      throw new ApiError(Codes.forbidden, 'this origin may not call the codec endpoints');
    }
    return next();
  };
}

export function codecRouter({ config }: AppDeps) {
  const codec = new EncryptionCodec(new Keyring(config.codec.keys));
  const router = new Hono<AppEnv>();
  const origin = config.codec.corsOrigin;
  // CORS first: a preflight carries no credentials, so it is answered before authentication.
  router.use('*', originGuard(origin));
  if (origin) {
    router.use('*', cors({ origin, credentials: true, allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['content-type', 'authorization', 'x-namespace'], maxAge: 600 }));
  }
  // The Web UI sends cookies only: an operator signs in here once (see codec-session.ts).
  router.get('/session', (c) => c.html(signInForm));
  router.post('/session', signIn(config.api.keys, config.env === 'production'));
  router.use('*', codecAuth(config.api.keys));
  router.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw new ApiError(Codes.tooLarge, `body larger than ${MAX_BODY_BYTES} bytes`); } }));
  for (const op of ['encode', 'decode'] as const) {
    router.post(`/${op}`, async (c) => {
      const payloads = readPayloads(await c.req.json().catch(() => null));
      try {
        return c.json(writePayloads(await codec[op](payloads)));
      } catch (err) {
        if (err instanceof UnknownKeyError || (err as Error)?.name === 'ValueError') throw new ApiError(Codes.badRequest, (err as Error).message);
        if (/unsupported state or unable to authenticate data/i.test(String((err as Error)?.message))) {
          throw new ApiError(Codes.badRequest, 'a payload failed its integrity check');
        }
        throw err;
      }
    });
  }
  return { path: '/codec', router };
}
