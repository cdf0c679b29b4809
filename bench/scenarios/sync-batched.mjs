// sync-batched: TRANSFER_MODE=batched (the default mode: the latency target reads it) at a fixed arrival rate (open
// loop, --sync-rate), Prefer: wait=10.
import { pacedTransfers } from '../lib/transfer-load.mjs';

export default {
  name: 'sync-batched',
  description: 'TRANSFER_MODE=batched at a fixed arrival rate (open loop, --sync-rate), Prefer: wait=10',
  async run(ctx) {
    await pacedTransfers(ctx, 'sync-batched', ctx.S.syncRate, { to: ctx.httpBatched, mode: 'batched' });
  },
};
