import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, DataDirLock } from '../../../agent/runtime/data-dir-lock.js';
import { startAgent, type AgentProcess } from '../../support/agent-process.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-lock-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

describe('DataDirLock', () => {
  it('lets one holder in at a time, names it to the next, and is free again once released', () => {
    const dir = path.join(tempDir(), 'data'); // created by the lock
    const first = DataDirLock.acquire(dir);
    expect(readFileSync(path.join(dir, 'agent.pid'), 'utf8').trim()).toBe(String(process.pid));
    expect(() => DataDirLock.acquire(dir)).toThrow(DataDirInUseError);
    expect(() => DataDirLock.acquire(dir)).toThrow(
      `data dir ${dir} is in use by another Vigil agent (pid ${process.pid})`,
    );
    first.release();
    first.release(); // twice is harmless
    expect(existsSync(path.join(dir, 'agent.pid'))).toBe(false);
    DataDirLock.acquire(dir).release();
  });
});

// Found auditing the outbox: a second `vigil run` on the same config ran beside the first for a minute, two
// agents draining one outbox, until only the status page's port clashed.
describe.skipIf(!hasShared)('vigil run, twice on one data dir', () => {
  it('refuses the second agent with the first one’s pid; after a kill -9 the lock is free at once', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'site.yaml');
    writeFileSync(
      config,
      [
        'site: s',
        'device: d',
        `dataDir: ${path.join(dir, 'data')}`,
        'http: { enabled: false }',
        'models:',
        `  m: { path: ${sharedPath('models', 'yolo11n-coco-int8-320.onnx')}, providers: [cpu], workers: 1 }`,
        'cameras:',
        `  - { id: a, source: ${sharedPath('media', 'vtest.avi')}, model: m, fps: 2, loop: true }`,
        '',
      ].join('\n'),
    );
    const run = (): AgentProcess => {
      const agent = startAgent(['run', config]);
      cleanup.push(() => agent.stop('SIGKILL'));
      return agent;
    };
    const first = run();
    await first.waitForOutput(/agent running/, 60_000);

    const second = run();
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `vigil: data dir ${path.join(dir, 'data')} is in use by another Vigil agent (pid ${first.child.pid})`,
    );

    await first.stop('SIGKILL'); // no clean stop: the kernel drops the lock with the process
    const third = run();
    await third.waitForOutput(/agent running/, 60_000);
    expect((await third.stop('SIGTERM')).code).toBe(0);
  }, 120_000);
});
