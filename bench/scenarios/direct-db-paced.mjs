// direct-db-paced: the direct-db transactions at the sync rate (open loop): the like-for-like latency baseline of sync.
import { directArgs, runDirectDb } from '../lib/direct-db.mjs';

export default {
  name: 'direct-db-paced',
  description: 'the direct-db transactions at the sync rate (open loop): the latency baseline of sync',
  async run(ctx) {
    await runDirectDb(ctx, 'direct-db-paced', { ...directArgs(ctx.S), rate: ctx.S.syncRate, concurrency: 0, durationMs: ctx.S.pacedMs });
  },
};
