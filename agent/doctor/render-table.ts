import type { CheckResult, Verdict } from './check.js';

const label: Record<Verdict, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

/**
 * A plain-text table, one check per line, columns padded to the widest cell: readable over SSH and in
 * a CI log alike (no colours, no box drawing). The detail column is last so long reasons just wrap.
 */
export function renderTable(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [r.check, r.subject ?? '', label[r.verdict], r.detail]);
  const header = ['CHECK', 'SUBJECT', 'VERDICT', 'DETAIL'];
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell))
      .join('  ')
      .trimEnd();
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  const summary = `${results.length} checks: ${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail, ${count('skip')} skip`;
  return [line(header), ...rows.map(line), '', summary].join('\n');
}
