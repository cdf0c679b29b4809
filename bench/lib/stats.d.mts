export function percentile(sorted: ArrayLike<number>, p: number): number | null;
export function summarize(samples: number[]): { n: number; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null; max_ms: number | null };
export function round(x: number | null | undefined, d?: number): number | null;
