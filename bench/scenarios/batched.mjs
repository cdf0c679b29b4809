// batched: the saga scenario's load to the API in TRANSFER_MODE=batched (the transfers that arrive while a batch starts
// share one workflow run, each its own saga); the mean batch size from the API's /metrics.
import { closedTransfers } from '../lib/transfer-load.mjs';

export default {
  name: 'batched',
  description: "saga's load to an API in TRANSFER_MODE=batched (transfers arriving while a batch starts share one run)",
  perLevel: true,
  async run(ctx, level) {
    await closedTransfers(ctx, `batched@${level}`, { concurrency: level, to: ctx.httpBatched, mode: 'batched' });
  },
};
