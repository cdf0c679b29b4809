// One configuration snapshot per request: taken once, first, and read by everything after it (auth, rate limit,
// routes) through c.get('config'), so a reload in the middle of a request never mixes two versions.
import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../../platform/http/deps';

export function configSnapshot({ config, live }: Pick<AppDeps, 'config' | 'live'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('config', live ? live.current().config : config);
    await next();
  };
}
