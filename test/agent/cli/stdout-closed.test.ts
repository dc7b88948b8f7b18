import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/shared.js';

// `vigil check-config site.yaml | head -1` printed a stack trace for 'write EPIPE' once head had gone (found
// by the docs/schemas work). Here the reader closes its end before the CLI writes a line, every time.
describe('the CLI with its stdout closed by the reader', () => {
  it('stops quietly with its own exit code, no EPIPE trace', async () => {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'agent/cli/vigil.mjs'), 'check-config', path.join(repoRoot, 'config/demo.yaml')],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.destroy();
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code, stderr).toBe(0);
  });
});
