export interface BenchAccounts {
  ids: string[];
  byShard: string[][];
  shardOfId: Map<string, number>;
}
export function accountsByShard(ids: string[], shards: number, shardOf: (id: string, shards: number) => number): BenchAccounts;
export function benchAccounts(o: { prefix: string; count: number; shards: number; shardOf: (id: string, shards: number) => number }): BenchAccounts;
export function pairPicker(a: BenchAccounts, cross: number): () => [string, string];
