import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HealthSampler } from '../../../agent/web/health-sampler.js';
import { HealthStatus } from '../../../agent/web/status-schema.js';

/** A stand-in /sys with what a Jetson exposes: thermal zones (one bogus) and the GPU load in per mille. */
function fakeSys(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-sys-'));
  const zone = (name: string, milli: string) => {
    mkdirSync(path.join(root, 'sys/class/thermal', name), { recursive: true });
    writeFileSync(path.join(root, 'sys/class/thermal', name, 'temp'), milli);
  };
  zone('thermal_zone0', '48500\n');
  zone('thermal_zone1', '61250\n');
  zone('thermal_zone2', '-40000\n'); // an absent sensor
  mkdirSync(path.join(root, 'sys/devices/gpu.0'), { recursive: true });
  writeFileSync(path.join(root, 'sys/devices/gpu.0/load'), '734\n');
  mkdirSync(path.join(root, 'proc'));
  writeFileSync(
    path.join(root, 'proc/stat'),
    'cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n',
  );
  writeFileSync(
    path.join(root, 'proc/meminfo'),
    'MemTotal:        8000000 kB\nMemFree:  1000000 kB\nMemAvailable:    6000000 kB\n',
  );
  return root;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('HealthSampler: device health for the page', () => {
  it('reads the hottest valid thermal zone and a Jetson GPU load from /sys, and the data dir disk', async () => {
    const root = fakeSys();
    const dataDir = path.join(root, 'data', 'not-created-yet');
    const sampler = new HealthSampler({ dataDir, root });
    expect(sampler.read()).toBeNull();
    await sampler.refresh();
    const s = sampler.read()!;
    expect(s.temperatureC).toBe(61.3);
    expect(s.gpu).toEqual({ loadPercent: 73.4, name: 'Jetson GPU', source: 'jetson-sysfs' });
    // The data dir does not exist yet: its nearest existing parent's filesystem is measured.
    expect(s.disk?.path).toBe(root);
    expect(s.disk!.totalBytes).toBeGreaterThan(0);
    expect(s.cores).toBeGreaterThan(0);
    expect(HealthStatus.parse({ ...s, eventLoopLagMs: { p50: 0, p99: 0, max: 0 } })).toBeTruthy();
    // /proc read directly (no execSync): since boot at first (idle + iowait = 800 of 1000), then the delta.
    expect(s.cpuPercent).toBe(20);
    expect(s.memory).toEqual({ usedBytes: 2_000_000 * 1024, totalBytes: 8_000_000 * 1024 });
    writeFileSync(path.join(root, 'proc/stat'), 'cpu  250 0 150 800 100 0 0 0 0 0\n');
    await sampler.refresh();
    expect(sampler.read()!.cpuPercent).toBe(66.7); // 200 busy of 300
  });

  it('a sample goes stale by elapsed time: a wall clock stepped back an hour does not freeze it', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const root = fakeSys();
    const sampler = new HealthSampler({ dataDir: root, root, maxAgeMs: 5000, gpuEveryMs: 1e12 });
    await sampler.refresh();
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(6000);
    sampler.read();
    const refreshing = (sampler as unknown as { refreshing?: Promise<void> }).refreshing;
    expect(refreshing).toBeDefined();
    await refreshing;
  });

  it('without thermal zones or a GPU the page gets nulls, not errors', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'vigil-sys-empty-'));
    const sampler = new HealthSampler({ dataDir: root, root, gpuEveryMs: Infinity });
    await sampler.refresh();
    const s = sampler.read()!;
    expect(s.temperatureC).toBeNull();
    expect(s.disk?.path).toBe(root);
  });
});
