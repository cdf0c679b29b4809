// sync: TRANSFER_MODE=single at a fixed arrival rate (open loop, --sync-rate), Prefer: wait=10.
import { pacedTransfers } from '../lib/transfer-load.mjs';

export default {
  name: 'sync',
  aliases: ['sync-remote'], // 0.1's name
  description: 'TRANSFER_MODE=single at a fixed arrival rate (open loop, --sync-rate), Prefer: wait=10',
  async run(ctx) {
    await pacedTransfers(ctx, 'sync', ctx.S.syncRate, { to: ctx.http, mode: 'saga' });
  },
};
