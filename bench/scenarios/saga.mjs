// saga: POST /v1/transfers with Prefer: wait=30 to the API in TRANSFER_MODE=single (a workflow per transfer), closed
// loop: each request ends when its flow is COMPLETED (200 COMPLETED answers only).
import { closedTransfers } from '../lib/transfer-load.mjs';

export default {
  name: 'saga',
  aliases: ['saga-remote'], // 0.1's name
  description: 'POST /v1/transfers, Prefer: wait=30, TRANSFER_MODE=single (a workflow per transfer); closed loop, 200 COMPLETED answers',
  perLevel: true,
  async run(ctx, level) {
    await closedTransfers(ctx, `saga@${level}`, { concurrency: level, to: ctx.http, mode: 'saga' });
  },
};
