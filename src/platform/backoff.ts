// Exponential backoff with jitter, for consumer retries and webhook deliveries: base · 2^(attempt−1), capped at max,
// then ±20 % so that retries of many messages that failed together spread out.
export function expBackoff(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(raw * (0.8 + 0.4 * random())));
}
