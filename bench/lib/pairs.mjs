// Bench accounts and how transfers pair them. The accounts are `<prefix>0 … <prefix>N-1`; each lives on the ledger
// shard its id maps to (src/activities/ledger/contract.ts shardOf, passed in), so they spread over the shards by hash,
// not evenly (the dev scenario's accounts are opened through an API: their ids are the server's). A transfer's source is drawn uniformly from all accounts; its destination from another shard with
// probability `cross` (else from the source's own shard): with 2 shards, `cross` of the transfers touch both servers.

/** Account ids grouped by the shard each maps to: { ids, shardOfId: Map, byShard: string[][] }. Throws if a shard has < 2. */
export function accountsByShard(ids, shards, shardOf) {
  const byShard = Array.from({ length: shards }, () => []);
  const shardOfId = new Map();
  for (const id of ids) {
    const s = shardOf(id, shards);
    shardOfId.set(id, s);
    byShard[s].push(id);
  }
  for (const [s, list] of byShard.entries()) if (list.length < 2) throw new Error(`only ${list.length} bench account(s) on ledger shard ${s}: use more --accounts`);
  return { ids, byShard, shardOfId };
}

/** The bench accounts (`<prefix>0 … <prefix>N-1`) grouped by shard, as accountsByShard. */
export function benchAccounts({ prefix, count, shards, shardOf }) {
  return accountsByShard(Array.from({ length: count }, (_, i) => `${prefix}${i}`), shards, shardOf);
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];

/** A picker of [from, to] pairs, `cross` of them on different shards (with one shard, never). */
export function pairPicker({ byShard, shardOfId }, cross) {
  const all = byShard.flat();
  return () => {
    const from = pick(all);
    const s = shardOfId.get(from);
    let pool = byShard[s];
    if (byShard.length > 1 && Math.random() < cross) {
      let other = Math.floor(Math.random() * (byShard.length - 1));
      if (other >= s) other++;
      pool = byShard[other];
    }
    let to = pick(pool);
    while (to === from) to = pick(pool);
    return [from, to];
  };
}
