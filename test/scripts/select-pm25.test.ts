import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasShared, repoRoot } from '../support/shared.js';

/** Runs a PM2.5 script as `npm run select:pm25` / `eval:pm25` would, on the Milan example in ../shared. */
function script(name: string, args: string[]) {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'scripts', name), ...args],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: run.status, stderr: run.stderr.trim(), stdout: run.stdout };
}

describe.skipIf(!hasShared)('PM2.5 scripts: --calibrate-until as the replay command takes it', () => {
  it('takes a date alone (its midnight at the site), and says in one line when too few readings precede it', () => {
    // Two weeks of January-February frames: the date is read (no "not a time"), the frames decoded, and the
    // rolling-origin validation finds no origin with 30 readings before it, which ends the script with exit 1.
    for (const name of ['select-pm25.ts', 'eval-pm25.ts']) {
      const run = script(name, ['--calibrate-until', '2025-02-12']);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^(select|eval):pm25: rolling-origin validation: no forecasts/);
      expect(run.stderr.split('\n')).toHaveLength(1);
    }
  });

  it('refuses a cutoff that is not a time with the forms it takes (exit 2)', () => {
    for (const name of ['select-pm25.ts', 'eval-pm25.ts', 'check-pm25-slopes.ts']) {
      const run = script(name, ['--calibrate-until', 'soon']);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe('--calibrate-until: not a time: soon (2025-04-01 or 2025-04-01T06:00)');
    }
  });
});
