import { describe, expect, it } from 'vitest';
import { exitCodeOf, type CheckResult } from '../../../agent/doctor/check.js';
import { renderTable } from '../../../agent/doctor/render-table.js';

const rows: CheckResult[] = [
  { check: 'ffmpeg', verdict: 'pass', detail: '7.1' },
  { check: 'provider', subject: 'tensorrt', verdict: 'warn', detail: 'not loadable; model det uses cpu' },
  { check: 'camera', subject: 'gate', verdict: 'fail', detail: 'Connection refused' },
  { check: 'broker', verdict: 'skip', detail: 'no broker configured' },
];

describe('doctor table', () => {
  it('pads the columns and ends with a count of each verdict', () => {
    expect(renderTable(rows).split('\n')).toEqual([
      'CHECK     SUBJECT   VERDICT  DETAIL',
      'ffmpeg              PASS     7.1',
      'provider  tensorrt  WARN     not loadable; model det uses cpu',
      'camera    gate      FAIL     Connection refused',
      'broker              SKIP     no broker configured',
      '',
      '4 checks: 1 pass, 1 warn, 1 fail, 1 skip',
    ]);
  });

  it('exits 0 with warnings and skips, 1 with any failure', () => {
    expect(exitCodeOf(rows.filter((r) => r.verdict !== 'fail'))).toBe(0);
    expect(exitCodeOf(rows)).toBe(1);
  });
});
