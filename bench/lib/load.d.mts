export interface LoopResult {
  ok: number;
  errors: number;
  firstError?: unknown;
  windowS: number;
  latencies: number[];
  dropped?: number;
  late?: number;
}
export function closedLoop(o: { concurrency: number; warmupMs: number; durationMs: number; op: (i: number) => Promise<boolean> }): Promise<LoopResult>;
export function openLoop(o: { rate: number; warmupMs: number; durationMs: number; op: (i: number) => Promise<boolean>; maxInFlight?: number }): Promise<LoopResult>;
export function httpClient(base: string, o?: { maxSockets?: number; headers?: Record<string, string> }): unknown;
