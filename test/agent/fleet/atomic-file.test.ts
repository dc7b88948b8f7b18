import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../agent/fleet/atomic-file.js';
import { ConfigStore } from '../../../agent/fleet/config-store.js';
import { repoRoot } from '../../support/shared.js';

describe('writeFileAtomic', () => {
  it('replaces a file and leaves no temporary file behind', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-atomic-'));
    const file = path.join(dir, 'x.json');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['x.json']);
  });

  it('a process killed (-9) at random instants while rewriting leaves the old or the new content, never a mix', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'vigil-atomic-kill-'));
    const dir = path.join(data, 'config');
    mkdirSync(dir);
    const file = path.join(dir, 'current.json');
    // Two large, different contents: a torn write would show as neither.
    const a = JSON.stringify({ v: 'a', pad: 'a'.repeat(400_000) });
    const b = JSON.stringify({ v: 'b', pad: 'b'.repeat(300_000) });
    writeFileSync(path.join(dir, 'a'), a);
    writeFileSync(path.join(dir, 'b'), b);
    const script = path.join(dir, 'writer.ts');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { writeFileAtomic } from ${JSON.stringify(path.join(repoRoot, 'agent/fleet/atomic-file.ts'))};
const [a, b] = ['a', 'b'].map((n) => readFileSync(${JSON.stringify(dir)} + '/' + n, 'utf8'));
process.stdout.write('ready\\n');
for (let i = 0; ; i++) writeFileAtomic(${JSON.stringify(file)}, i % 2 ? b : a);
`,
    );
    for (let round = 0; round < 8; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + ((round * 37) % 150)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      if (!existsSync(file)) continue; // killed before the first rename: no file, as before
      const text = readFileSync(file, 'utf8');
      expect(text === a || text === b).toBe(true);
    }
    expect(existsSync(file)).toBe(true);
    // Temporary files a kill left behind are removed at the store's next write.
    const store = new ConfigStore(data);
    store.saveAttempt({ revision: 1, digest: 'd', tries: 1, outcome: 'applied', at: 0 });
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  }, 60_000);
});
