/**
 * Delay before reconnect attempt `attempt` (0-based): doubling from minMs up to maxMs, with ±20 %
 * jitter so a fleet that lost the same broker doesn't come back in lockstep.
 */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}
