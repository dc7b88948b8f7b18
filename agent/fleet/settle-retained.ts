/** Retained messages come in a burst after SUBACK; the burst is over once none came for this long. */
const quietMs = 500;
/** A fleet whose retained states keep trickling in (a busy broker) is not waited for longer than this. */
const maxMs = 10_000;

/**
 * Waits `minMs`, then for as long as retained messages keep arriving (`lastRetainedAt`, epoch ms, 0 before
 * the first): until `quietMs` passed without one, at most `maxMs` in all and never past `deadline`.
 * Used by the push before it publishes, so that it knows every box the target covers.
 */
export async function settleRetained(
  minMs: number,
  lastRetainedAt: () => number,
  deadline: number,
): Promise<void> {
  const start = Date.now();
  const end = Math.min(deadline, start + Math.max(minMs, maxMs));
  let until = start + minMs;
  for (;;) {
    const wait = Math.min(until, end) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    until = lastRetainedAt() + quietMs;
    if (until <= Date.now() || Date.now() >= end) return;
  }
}
