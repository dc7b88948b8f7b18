import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGpuLoad } from '../../../agent/doctor/gpu-check.js';
import { doctorConfig } from './config.js';

/** A fake sysfs (this box is no Jetson): the file a Jetson kernel would publish, under a tmp root. */
function fakeRoot(rel?: string, content?: string): string {
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-sysfs-'));
  if (rel) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    if (content !== undefined) writeFileSync(path.join(root, rel), content);
    else mkdirSync(path.join(root, rel)); // exists but is not readable as a file
  }
  return root;
}
const noGpu = async () => ({ controllers: [] });
const cfg = doctorConfig();
const cpuOnly = doctorConfig({ models: { det: { path: '/m.onnx', providers: ['cpu'] } } });

describe('gpu load check', () => {
  it('reads the Jetson load file (per mille) at the older gpu.0 path', async () => {
    const root = fakeRoot('sys/devices/gpu.0/load', '473\n');
    expect(await checkGpuLoad(cfg, { root, graphics: noGpu })).toEqual({
      check: 'gpu load',
      verdict: 'pass',
      detail: 'Jetson GPU 47.3% (/sys/devices/gpu.0/load)',
    });
  });

  it('reads the Orin platform path', async () => {
    const root = fakeRoot('sys/devices/platform/bus@0/17000000.gpu/load', '0\n');
    expect((await checkGpuLoad(cfg, { root, graphics: noGpu })).detail).toBe(
      'Jetson GPU 0.0% (/sys/devices/platform/bus@0/17000000.gpu/load)',
    );
  });

  it('fails when the load file is there but unreadable or not a number', async () => {
    const unreadable = await checkGpuLoad(cfg, { root: fakeRoot('sys/devices/gpu.0/load'), graphics: noGpu });
    expect(unreadable).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(/^\/sys\/devices\/gpu\.0\/load exists but cannot be read: EISDIR/),
    });
    const garbage = await checkGpuLoad(cfg, {
      root: fakeRoot('sys/devices/gpu.0/load', 'n/a'),
      graphics: noGpu,
    });
    expect(garbage).toMatchObject({
      verdict: 'fail',
      detail: '/sys/devices/gpu.0/load holds "n/a", not a number',
    });
  });

  it('falls back to systeminformation off Jetson (a desktop NVIDIA GPU)', async () => {
    const graphics = async () => ({
      controllers: [{ model: 'NVIDIA RTX A2000', vendor: 'NVIDIA', utilizationGpu: 12 }],
    });
    expect(await checkGpuLoad(cfg, { root: fakeRoot(), graphics })).toMatchObject({
      verdict: 'pass',
      detail: 'NVIDIA RTX A2000 12% (systeminformation)',
    });
  });

  it('on this box (real systeminformation, no GPU): a warning while models want a GPU provider', async () => {
    const r = await checkGpuLoad(cfg, { root: fakeRoot() });
    expect(r).toMatchObject({ verdict: 'warn', detail: expect.stringMatching(/^no GPU: not a Jetson/) });
  });

  it('skips when every model runs on the CPU anyway', async () => {
    expect((await checkGpuLoad(cpuOnly, { root: fakeRoot(), graphics: noGpu })).verdict).toBe('skip');
  });
});
