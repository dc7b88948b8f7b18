import { readdir, readFile, statfs } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import si from 'systeminformation';
import { jetsonLoadFiles } from '../doctor/gpu-check.js';
import type { HealthStatus } from './status-schema.js';

export type HealthSample = Omit<HealthStatus, 'eventLoopLagMs'>;

export interface HealthSamplerOptions {
  /** The data dir: its filesystem is the one that fills up. */
  dataDir: string;
  /** Filesystem root, so tests can stand in a fake /sys. */
  root?: string;
  /** Samples older than this are refreshed on the next read (default 5 s). */
  maxAgeMs?: number;
  /** systeminformation's GPU list is slow (it runs lspci and nvidia-smi): polled at most this often. */
  gpuEveryMs?: number;
  /** The wall clock, for `sampledAt` only (ages are performance.now). */
  now?: () => number;
}

/**
 * Device health for the page, sampled on demand: a read returns the last sample at once and refreshes it
 * in the background when stale, so nobody watching costs nothing and a page never waits on a probe.
 * Temperatures are read from /sys directly: systeminformation's Linux reader blocks on execSync.
 */
export class HealthSampler {
  private sample: HealthSample | null = null;
  private refreshing: Promise<void> | undefined;
  private lastCpu = { usage: process.cpuUsage(), at: performance.now() };
  /** performance.now of the sample and of the GPU poll: ages are elapsed time, whatever the wall clock does. */
  private sampledMono = -Infinity;
  private gpuAt = -Infinity;
  /** false once systeminformation showed no readable GPU: not asked again. */
  private gpuViaSi = true;
  private gpu: HealthSample['gpu'] = null;
  private lastStat: { total: number; idle: number } | undefined;
  private readonly root: string;
  private readonly now: () => number;

  constructor(private readonly opts: HealthSamplerOptions) {
    this.root = opts.root ?? '/';
    this.now = opts.now ?? Date.now;
  }

  /** The latest sample (null before the first completes); starts a refresh when it is stale. */
  read(): HealthSample | null {
    const age = performance.now() - this.sampledMono;
    if (age > (this.opts.maxAgeMs ?? 5000)) void this.refresh();
    return this.sample;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.take().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async take(): Promise<void> {
    const [cpuPercent, memory, disk, temperatureC, gpu] = await Promise.all([
      this.cpuPercent(),
      this.memory(),
      this.disk(),
      this.temperature(),
      this.gpuLoad(),
    ]);
    const cores = availableParallelism();
    const usage = process.cpuUsage();
    const at = performance.now();
    const cpuMs = (usage.user - this.lastCpu.usage.user + usage.system - this.lastCpu.usage.system) / 1000;
    const processCpu = at > this.lastCpu.at ? (cpuMs / (at - this.lastCpu.at) / cores) * 100 : 0;
    this.lastCpu = { usage, at };
    this.sampledMono = at;
    this.sample = {
      sampledAt: this.now(),
      cpuPercent,
      load1: round1(loadavg()[0] ?? 0),
      cores,
      memory,
      disk,
      temperatureC,
      gpu,
      process: { rssBytes: process.memoryUsage.rss(), cpuPercent: round1(Math.max(0, processCpu)) },
    };
  }

  /**
   * Busy share of all cores since the last sample, from /proc/stat. Not systeminformation's currentLoad:
   * it runs `cat /proc/stat | grep cpu` with execSync, blocking the event loop (and the cameras) for a
   * shell's start every sample; it stays the fallback where /proc is missing.
   */
  private async cpuPercent(): Promise<number | null> {
    const text = await readFile(path.join(this.root, 'proc/stat'), 'utf8').catch(() => undefined);
    const f = text && /^cpu\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number);
    if (!f || f.length < 4 || f.some((v) => !Number.isFinite(v))) {
      const load = await si.currentLoad().catch(() => null);
      return load && Number.isFinite(load.currentLoad) ? round1(load.currentLoad) : null;
    }
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = f[3]! + (f[4] ?? 0);
    const last = this.lastStat ?? { total: 0, idle: 0 };
    this.lastStat = { total, idle };
    const dt = total - last.total;
    return dt > 0 ? round1(Math.min(100, Math.max(0, (1 - (idle - last.idle) / dt) * 100))) : null;
  }

  /** Used = total − available (what the kernel could hand out without swapping), from /proc/meminfo. */
  private async memory(): Promise<HealthSample['memory']> {
    const text = await readFile(path.join(this.root, 'proc/meminfo'), 'utf8').catch(() => '');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
    let total = kib('MemTotal') * 1024;
    let available = kib('MemAvailable') * 1024;
    if (!(total > 0 && available >= 0)) {
      const mem = await si.mem().catch(() => null);
      if (!mem) return null;
      [total, available] = [mem.total, mem.available];
    }
    return { usedBytes: Math.max(0, total - available), totalBytes: total };
  }

  private async disk(): Promise<HealthSample['disk']> {
    // The data dir may not exist yet: measure the nearest existing parent (same filesystem).
    let dir = path.resolve(this.opts.dataDir);
    for (;;) {
      try {
        const s = await statfs(dir);
        const total = s.blocks * s.bsize;
        return { path: dir, usedBytes: Math.max(0, total - s.bavail * s.bsize), totalBytes: total };
      } catch {
        const up = path.dirname(dir);
        if (up === dir) return null;
        dir = up;
      }
    }
  }

  /** The hottest thermal zone (CPU, SoC or GPU: whichever is closest to throttling), °C. */
  private async temperature(): Promise<number | null> {
    const base = path.join(this.root, 'sys/class/thermal');
    let zones: string[];
    try {
      zones = (await readdir(base)).filter((z) => z.startsWith('thermal_zone'));
    } catch {
      return null;
    }
    const temps = await Promise.all(
      zones.map((z) =>
        readFile(path.join(base, z, 'temp'), 'utf8').then(
          (t) => Number(t.trim()) / 1000,
          () => NaN,
        ),
      ),
    );
    // Some zones report -40 °C or 0 when the sensor is absent.
    const valid = temps.filter((t) => Number.isFinite(t) && t > 0 && t < 150);
    return valid.length ? round1(Math.max(...valid)) : null;
  }

  private async gpuLoad(): Promise<HealthSample['gpu']> {
    for (const rel of jetsonLoadFiles) {
      const text = await readFile(path.join(this.root, rel), 'utf8').catch(() => undefined);
      const perMille = Number(text?.trim());
      if (text !== undefined && text.trim() !== '' && Number.isFinite(perMille)) {
        return { loadPercent: round1(perMille / 10), name: 'Jetson GPU', source: 'jetson-sysfs' };
      }
    }
    const at = performance.now();
    if (!this.gpuViaSi || at - this.gpuAt < (this.opts.gpuEveryMs ?? 30_000)) return this.gpu;
    this.gpuAt = at;
    const controllers = (await si.graphics().catch(() => ({ controllers: [] }))).controllers;
    const measured = controllers.find((c) => typeof c.utilizationGpu === 'number');
    if (!measured) {
      this.gpuViaSi = false;
      return (this.gpu = null);
    }
    return (this.gpu = {
      loadPercent: round1(measured.utilizationGpu!),
      name: measured.model || measured.vendor || 'GPU',
      source: 'systeminformation',
    });
  }
}

const round1 = (v: number) => Math.round(v * 10) / 10;
