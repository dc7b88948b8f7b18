import type { HealthPayload } from '../mqtt/report-payloads.js';
import type { Agent } from '../runtime/agent.js';
import type { HealthSample } from '../web/health-sampler.js';

const noSample: HealthPayload['system'] = {
  cpuPercent: null,
  load1: 0,
  cores: 1,
  memory: null,
  temperatureC: null,
  disk: null,
  process: { rssBytes: 0, cpuPercent: 0 },
};

/** The `health` payload (docs/mqtt.md) from the agent's outbox, link and cameras and a system sample. */
export function healthPayload(
  agent: Pick<Agent, 'outbox' | 'link' | 'cameras' | 'startedAt' | 'version'>,
  sample: HealthSample | null,
  ts: number,
): HealthPayload {
  const { outbox, link } = agent;
  const depth = outbox.depth();
  const c = link?.counters();
  const system = sample
    ? {
        cpuPercent: sample.cpuPercent,
        load1: sample.load1,
        cores: Math.max(1, sample.cores),
        memory: sample.memory,
        temperatureC: sample.temperatureC,
        disk: sample.disk,
        process: sample.process,
      }
    : { ...noSample, process: { rssBytes: process.memoryUsage.rss(), cpuPercent: 0 } };
  return {
    ts,
    version: agent.version,
    uptimeS: Math.round((ts - agent.startedAt) / 100) / 10,
    outbox: {
      rows: depth.rows,
      bytes: depth.bytes,
      oldestAgeMs: depth.oldestAgeMs,
      dropsUnreported: outbox.drops(),
      dropsSinceStart: outbox.dropsSinceStart(),
      lastError: outbox.lastError() ?? null,
    },
    link: {
      protocol: c?.protocol ?? '5',
      connects: c?.connects ?? 0,
      published: c?.published ?? 0,
      acked: c?.acked ?? 0,
      inflight: c?.inflight ?? 0,
      backlogRows: link?.backlogRows() ?? 0,
      roundTripMs: c && c.acked > 0 ? { last: round1(c.latencyMs.last), avg: round1(c.latencyMs.avg) } : null,
      lastError: link?.state.lastError ?? null,
    },
    system,
    cameras: Object.fromEntries([...agent.cameras].map(([id, cam]) => [id, cam.state.state])),
  };
}

const round1 = (v: number) => Math.round(v * 10) / 10;
