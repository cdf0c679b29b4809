// The validation hook every router uses: a failed zod validation becomes 400/4000 listing `{path, message}` per issue.
import type { Context } from 'hono';
import { ApiError, Codes } from './envelope';

/** zod-openapi hook: a failed validation becomes 400/4000 listing `{path, message}` per issue. */
export function validationHook(
  result: { success: boolean; target?: string; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } },
  _c: Context,
) {
  if (result.success) return;
  const errors = (result.error?.issues ?? []).map((i) => ({
    path: [result.target === 'json' ? 'body' : result.target, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
  throw new ApiError(Codes.badRequest, 'request validation failed', { errors });
}
