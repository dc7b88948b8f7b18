import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../support/agent-process.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const homes: string[] = [];
afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh HOME: onnxruntime's telemetry keeps its event cache under it. */
function freshHome(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-home-'));
  homes.push(dir);
  return dir;
}

const detect = ['detect', '--model', sharedPath('models', 'yolo11n-coco-int8-320.onnx')];
const image = ['--image', sharedPath('media', 'bus.jpg'), '--json', '--provider', 'cpu'];
const telemetryCache = (home: string) => path.join(home, '.cache', 'Microsoft', 'DeveloperTools');

// Found in a 30-minute churn soak: each agent start left a /tmp/mat-debug-<pid>.log behind, and the
// telemetry cache was written while the agent ran.
describe.skipIf(!hasShared)('onnxruntime telemetry', () => {
  it('is off in the CLI: a session loads and runs, and nothing is written to the telemetry cache', async () => {
    const home = freshHome();
    const { code, output } = await runCli([...detect, ...image], { HOME: home });
    expect(code, output).toBe(0);
    expect(output).toMatch(/"label": ?"person"/);
    expect(existsSync(telemetryCache(home))).toBe(false);
  });

  it("keeps an operator's own ORT_DISABLE_TELEMETRY (0: telemetry on, its cache is written)", async () => {
    const home = freshHome();
    const { code, output } = await runCli([...detect, ...image], { HOME: home, ORT_DISABLE_TELEMETRY: '0' });
    expect(code, output).toBe(0);
    expect(existsSync(telemetryCache(home))).toBe(true);
  });
});
