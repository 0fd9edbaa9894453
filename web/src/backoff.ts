// Reconnect delays: exponential with jitter, capped.

export interface BackoffOptions {
  /** The first delay's upper bound, in ms. */
  baseMs?: number;
  /** No delay is longer. */
  maxMs?: number;
  /** A number in [0, 1). */
  random?: () => number;
}

/**
 * The wait before reconnect attempt `attempt` (0 for the first after a drop): between half and
 * all of min(max, base·2^attempt), so that clients dropped together do not return together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
