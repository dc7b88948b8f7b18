import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hasShared, repoRoot, sharedPath } from '../../../support/shared.js';

const vigil = path.join(repoRoot, 'agent/cli/vigil.mjs');

/** Runs the real `vigil` bin; returns exit code, stdout and stderr. */
async function run(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [vigil, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('vigil models', () => {
  it('lists the manifest', async () => {
    const r = await run(['models', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('yolox-nano-coco-416  yolox  416×416  80 coco classes  Apache-2.0');
  });

  it.skipIf(!hasShared)(
    'fetches from the mirror in VIGIL_MODEL_MIRROR with progress on stderr, verifies, and flags an altered copy',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'vigil-models-cli-'));
      const env = { VIGIL_MODEL_MIRROR: sharedPath('models'), VIGIL_MODEL_DIR: dir };
      const fetched = await run(['models', 'fetch', 'yolo11n-coco-int8-320'], env);
      expect(fetched.code).toBe(0);
      expect(fetched.stdout).toContain(
        `yolo11n-coco-int8-320: verified and installed: ${dir}/yolo11n-coco-int8-320.onnx`,
      );
      expect(fetched.stderr).toMatch(/yolo11n-coco-int8-320: 100% \(2\.8 of 2\.8 MB\)/);
      const ok = await run(['models', 'verify', 'yolo11n-coco-int8-320', '--dir', dir]);
      expect(ok).toMatchObject({ code: 0 });
      expect(ok.stdout).toMatch(/^ok +yolo11n-coco-int8-320/);

      const file = path.join(dir, 'yolo11n-coco-int8-320.onnx');
      const bytes = readFileSync(file);
      writeFileSync(file, bytes.subarray(0, 1000));
      const bad = await run(['models', 'verify', '--dir', dir]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(
        /mismatch +yolo11n-coco-int8-320 .*: 1000 bytes, expected 2923867 \(truncated\)/,
      );
      // the detector refuses it too when named by manifest id
      const det = await run([
        'detect',
        '--model',
        'yolo11n-coco-int8-320',
        '--dir',
        dir,
        '--image',
        sharedPath('media', 'bus.jpg'),
      ]);
      expect(det.code).toBe(1);
      expect(det.stderr).toMatch(
        /has sha256 [0-9a-f]{64}, expected 5ea9b19c.* \(truncated or altered\): not loaded/,
      );
    },
    60_000,
  );

  // An unknown id exited 1, like a failed download, and only after the ids before it were fetched.
  it('refuses an unknown id as a usage error (exit 2) before fetching anything, and a mirror without the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-models-cli-'));
    const r = await run(['models', 'fetch', 'nope', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown model "nope" (known: yolov8n-coco-int8-640');
    const first = await run([
      'models',
      'fetch',
      'yolov8n-coco-int8-640',
      'nope',
      '--dir',
      dir,
      '--mirror',
      dir,
    ]);
    expect(first.code).toBe(2);
    expect(first.stderr).not.toContain('not in the mirror'); // no fetch was tried
    expect((await run(['models', 'verify', 'nope', '--dir', dir])).code).toBe(2);
    const m = await run(['models', 'fetch', 'yolov8n-coco-int8-640', '--dir', dir, '--mirror', dir]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(
      `refused, nothing installed: not in the mirror: ${dir}/yolov8n-coco-int8-640.onnx`,
    );
  });
});
