export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay randomised either way, so a site's cameras don't retry in lockstep. */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 1000, maxMs: 30_000, jitter: 0.2 };

/** Delay before retry number `attempt` (1-based): base·2^(attempt-1), capped, ± jitter. */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const raw = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (1 + opts.jitter * (2 * random() - 1)));
}
