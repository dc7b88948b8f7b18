/** One line of `vigil doctor`: what was checked, the verdict, and why in words a person can act on. */
export type Verdict = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** The kind of check: `ffmpeg`, `provider`, `camera`, … */
  check: string;
  /** What it was run on: a provider, a camera id, a broker URL (credentials redacted). */
  subject?: string;
  verdict: Verdict;
  detail: string;
}

export const result = (
  check: string,
  subject: string | undefined,
  verdict: Verdict,
  detail: string,
): CheckResult => (subject === undefined ? { check, verdict, detail } : { check, subject, verdict, detail });

/** Warnings are allowed: only a failure makes the exit code 1. */
export const exitCodeOf = (results: readonly CheckResult[]) =>
  results.some((r) => r.verdict === 'fail') ? 1 : 0;

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
