import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './shared.js';

export interface AgentProcess {
  child: ChildProcess;
  /** Everything the agent wrote to stderr and stdout so far. */
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  exited: Promise<number | null>;
}

/** Runs the real CLI (`vigil …`) in its own process, as a site would. */
/** `env` is laid over the test's environment; a variable given as undefined is removed. */
export function startAgent(args: string[], env: Record<string, string | undefined> = {}): AgentProcess {
  const child = spawn(process.execPath, [path.join(repoRoot, 'agent/cli/vigil.mjs'), ...args], {
    cwd: repoRoot,
    env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    waitForOutput: async (pattern, timeoutMs = 30_000) => {
      const t0 = Date.now();
      while (!pattern.test(out)) {
        if (child.exitCode !== null)
          throw new Error(`agent exited (${child.exitCode}) before ${pattern}:\n${out}`);
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${pattern}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
      const t0 = Date.now();
      child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - t0 };
    },
  };
}

/** Runs the CLI to completion (for commands that exit by themselves). */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
) {
  const agent = startAgent(args, env);
  const timer = setTimeout(() => agent.child.kill('SIGKILL'), timeoutMs);
  const code = await agent.exited;
  clearTimeout(timer);
  return { code, output: agent.output() };
}
