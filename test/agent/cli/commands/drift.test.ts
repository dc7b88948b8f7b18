import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerDrift } from '../../../../agent/cli/commands/drift.js';
import { loadConfig } from '../../../../config/load.js';
import { configRevision } from '../../../../pipeline/drift/config-revision.js';
import { DriftAccumulator } from '../../../../pipeline/drift/drift-accumulator.js';
import { ReferenceExport } from '../../../../pipeline/drift/drift-records.js';
import { ReferenceStore } from '../../../../pipeline/drift/reference-store.js';
import { syntheticEvent, syntheticImage } from '../../../pipeline/drift/support.js';

/** Runs `vigil drift …` in-process; returns the exit code and what it printed. */
async function drift(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const result = { code: 0 };
  const program = new Command('vigil').exitOverride();
  registerDrift(program, result);
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    await program.parseAsync(['node', 'vigil', 'drift', ...args]);
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
  return { code: result.code, out: out.join('\n'), err: err.join('\n') };
}

let dir: string;
let configFile: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-drift-cli-'));
  configFile = path.join(dir, 'site.yaml');
  writeFileSync(
    configFile,
    `site: yard\ndevice: box\ndataDir: ${dir}/data\nmodels: { det: { path: ${dir}/det.onnx } }\n` +
      'cameras:\n  - { id: gate, source: "rtsp://user:pw@cam/1", model: det }\n  - { id: dock, source: rtsp://cam/2, model: det }\n',
  );
});
afterEach(() => vi.restoreAllMocks());

/** Stores hourly windows of the camera's current key, as the agent would have. */
function storeWindows(camera: string, hours: number[]) {
  const cfg = loadConfig(configFile);
  const cam = cfg.cameras.find((c) => c.id === camera)!;
  const key = { camera, modelId: 'det', configRevision: configRevision(cam, cfg.models.det!) };
  const store = ReferenceStore.open(path.join(cfg.dataDir, ReferenceStore.fileName));
  for (const h of hours) {
    const acc = new DriftAccumulator();
    for (let i = 0; i < 20; i++) {
      acc.addFrame(syntheticImage(i));
      acc.addDetections(syntheticEvent(i, 2));
    }
    const start = Date.parse('2026-03-01T00:00:00Z') + h * 3_600_000;
    store.saveWindow({
      ...key,
      start,
      end: start + 3_600_000,
      status: 'no-reference',
      state: 'ok',
      stateSince: start,
      profile: acc.snapshot(),
    });
  }
  store.close();
  return key;
}

describe('vigil drift', () => {
  const baselineOfGate = (from: string, to: string) =>
    drift(['baseline', '-c', configFile, '--camera', 'gate', '--from', from, '--to', to]);

  it('baseline builds a reference from the stored windows in a range; list shows it', async () => {
    const key = storeWindows('gate', [0, 1, 2, 3, 4]);
    const r = await baselineOfGate('2026-03-01T01:00Z', '2026-03-01T04:00Z');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`camera gate, model det, revision ${key.configRevision}, baseline, 3 windows`);
    expect(r.out).toContain('60 frames');
    const list = await drift(['list', '-c', configFile]);
    expect(list.out).toMatch(/^1: camera gate/);
  });

  it('baseline over a range without windows fails with a clear line', async () => {
    storeWindows('gate', [0]);
    const r = await baselineOfGate('2026-04-01T00:00Z', '2026-04-02T00:00Z');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^vigil: no drift windows for camera "gate"/);
    // Wrong arguments are usage errors: exit 2 (README, "Exit codes").
    const bad = await baselineOfGate('yesterday', '1');
    expect(bad).toMatchObject({
      code: 2,
      err: 'vigil: --from: not a time: yesterday (ISO 8601 or epoch ms)',
    });
    const noStore = await drift(['list']);
    expect(noStore).toMatchObject({ code: 2, err: 'vigil: give -c CONFIG or --data-dir DIR' });
  });

  it('export writes the reference as JSON; import makes it another camera’s reference', async () => {
    storeWindows('gate', [0, 1]);
    await baselineOfGate('0', String(Date.parse('2026-03-02T00:00Z')));
    const file = path.join(dir, 'gate-ref.json');
    const exported = await drift(['export', '-c', configFile, '--camera', 'gate', '-o', file]);
    expect(exported.code).toBe(0);
    const json = ReferenceExport.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(json).toMatchObject({ format: 'vigil-drift-reference', camera: 'gate', windows: 2 });

    const imported = await drift(['import', file, '-c', configFile, '--camera', 'dock']);
    expect(imported.code).toBe(0);
    expect(imported.out).toContain('camera dock, model det');
    expect(imported.out).toContain(`import from gate/det/${json.configRevision}`);
    // the dock's export is now that reference, retargeted
    const dock = await drift(['export', '-c', configFile, '--camera', 'dock']);
    expect(ReferenceExport.parse(JSON.parse(dock.out))).toMatchObject({
      camera: 'dock',
      source: 'import',
      profile: json.profile,
    });
  });

  it('import of a file that is not a reference fails with one clear line naming the file', async () => {
    const notJson = path.join(dir, 'notes.txt');
    writeFileSync(notJson, 'not json');
    const wrong = path.join(dir, 'other.json');
    writeFileSync(wrong, JSON.stringify({ x: 1 }));
    const a = await drift(['import', notJson, '--data-dir', dir]);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/^vigil: .*notes\.txt: not a JSON file \(/);
    const b = await drift(['import', wrong, '--data-dir', dir]);
    expect(b.code).toBe(1);
    expect(b.err.split('\n')).toHaveLength(1);
    expect(b.err).toMatch(
      /^vigil: .*other\.json: not a reference written by `vigil drift export` \(format: .*, … \d+ more\)$/,
    );
  });

  // A mistyped --data-dir used to answer "no drift references" (exit 0) and leave an empty drift.db there.
  it('list and export on a data dir without drift.db fail with one line, and create nothing', async () => {
    const typo = path.join(dir, 'no-such-dir');
    for (const args of [['list'], ['export', '--camera', 'yard']]) {
      const r = await drift([...args, '--data-dir', typo]);
      expect(r.code).toBe(1);
      expect(r.err.trim()).toBe(
        `vigil: no drift database at ${typo}/drift.db: the agent makes it once drift runs (check -c or --data-dir)`,
      );
    }
    expect(existsSync(typo)).toBe(false);
  });
});
