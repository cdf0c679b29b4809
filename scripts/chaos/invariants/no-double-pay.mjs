// Invariant: no transfer is both credited and refunded. A saga transfer's credit is its pivot: once the destination
// holds the money it is never taken back, so the debit must not be refunded either — a refund next to a credit is
// money paid twice (a cancel, or a lost reply, turned an unknown pivot into an undo). Reads every flow's ledger
// entries across shards (`state.entriesByFlow`: flow id → entries { step, account_id, amount, shard }).
export default {
  name: 'no-double-pay',
  check({ entriesByFlow }, violation) {
    for (const [flow, entries] of entriesByFlow) {
      const steps = new Set(entries.map((e) => e.step));
      if (steps.has('credit') && steps.has('refund-debit') && !steps.has('reverse-credit')) {
        violation('double-pay', { flow, entries: entries.map((e) => ({ step: e.step, account: e.account_id, amount: Number(e.amount), shard: e.shard })) });
      }
    }
  },
};
