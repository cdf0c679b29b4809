// direct-db: the transfer's SQL, one local transaction per database (debit branch on the source's shard, credit branch
// on the destination's, status on the source's), from Node via Sequelize, no coordinator (bench/direct-db.ts).
import { directArgs, runDirectDb } from '../lib/direct-db.mjs';

export default {
  name: 'direct-db',
  description: "the transfer's SQL, one local transaction per database, from Node via Sequelize, no coordinator; closed loop",
  perLevel: true,
  async run(ctx, level) {
    await runDirectDb(ctx, `direct-db@${level}`, { ...directArgs(ctx.S), concurrency: level });
  },
};
