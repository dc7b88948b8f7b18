import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerPm25 } from '../../../../agent/cli/commands/pm25.js';
import { repoRoot, hasShared, sharedPath } from '../../../support/shared.js';

const work = mkdtempSync(path.join(tmpdir(), 'vigil-pm25-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!hasShared)('vigil pm25 replay', () => {
  it('writes one JSON line per frame in time order, with the sensor gone after --calibrate-until', async () => {
    const src = sharedPath('data', 'pm25-milan', 'images');
    const images = path.join(work, 'images');
    mkdirSync(images);
    // Three February days: readings on the first two calibrate, the third stands on the images alone.
    const files = readdirSync(src).filter((f) => /^2025020[345]-/.test(f));
    for (const f of files) symlinkSync(path.join(src, f), path.join(images, f));
    const out = path.join(work, 'out.jsonl');
    const result = { code: -1 };
    const program = new Command('vigil').exitOverride();
    registerPm25(program, result);
    await program.parseAsync(
      [
        'pm25', 'replay',
        '--images', images,
        '--labels', sharedPath('data', 'pm25-milan', 'labels.csv'),
        '--config', path.join(repoRoot, 'config/examples/pm25-milan.yaml'),
        '--calibrate-until', '2025-02-05',
        '-o', out,
      ], // prettier-ignore
      { from: 'user' },
    );
    expect(result.code).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(files.length);
    expect(lines.map((l) => l.file)).toEqual([...files].sort());
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(
        expect.arrayContaining(['file', 'time', 'pm25', 'lo80', 'hi80', 'lo95', 'hi95', 'flags', 'state']),
      );
      if (l.pm25 !== null) expect(l.lo95 as number).toBeLessThanOrEqual(l.lo80 as number);
    }
    // Nine day frames on the 3rd and 4th start the calibration; with the sensor gone the state then freezes.
    const lastDay = lines.filter((l) => (l.file as string).startsWith('20250205'));
    expect(new Set(lastDay.map((l) => l.state)).size).toBe(1);
    expect(lastDay[0]!.state).toBe('calibrating');
    expect(lastDay.some((l) => l.pm25 !== null)).toBe(true);
  });
});
