import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VigilConfig, type VigilConfigInput } from '../../config/schema.js';
import { Agent, type AgentOptions } from '../../agent/runtime/agent.js';

/**
 * The config of an agent with no camera running: one disabled camera on a model that is never loaded, no
 * status page. What tests of the agent's own parts (outbox, link, services) start from; `extra` replaces
 * top-level sections (`mqtt`, `http`, `site`, …).
 */
export function idleAgentConfig(dataDir: string, extra: Partial<VigilConfigInput> = {}): VigilConfig {
  return VigilConfig.parse({
    site: 's',
    device: 'd',
    dataDir,
    http: { enabled: false },
    models: { m: { path: '/nonexistent.onnx' } },
    cameras: [{ id: 'cam1', source: '/nonexistent.mp4', model: 'm', enabled: false }],
    ...extra,
  });
}

/** A fresh data directory, removed by the cleanup `defer` is given. */
export function tempDataDir(prefix: string, defer: (fn: () => unknown) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), `vigil-${prefix}-`));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A started idle agent (see idleAgentConfig) in a fresh data directory; `defer` gets its stop, to run
 * before the directory goes (cleanups run in reverse order).
 */
export async function startIdleAgent(
  opts: Omit<AgentOptions, 'version'> & {
    defer: (fn: () => unknown) => void;
    extra?: Partial<VigilConfigInput>;
    version?: string;
  },
): Promise<{ agent: Agent; dataDir: string }> {
  const { defer, extra, version = '0.0.0', ...agentOptions } = opts;
  const dataDir = tempDataDir('idle-agent', defer);
  const agent = new Agent(idleAgentConfig(dataDir, extra), { version, ...agentOptions });
  await agent.start();
  defer(() => agent.stop(1000));
  return { agent, dataDir };
}
