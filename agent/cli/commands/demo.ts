import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadConfig } from '../../../config/load.js';
import { sourceKindOf } from '../../../pipeline/source/source-kinds.js';
import type { CliResult } from '../main.js';
import { reportConfigError } from './check-config.js';

const demoConfig = fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url));
const mosquittoPaths = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Runs the broker while the demo (PARENT) lives; SIGTERM stops it (within half a second). */
const brokerWatcher = [
  '"$BROKER" -c "$CONF" & m=$!',
  'trap \'kill $m 2>/dev/null; wait $m; rm -rf "$DIR"; exit 0\' TERM INT',
  'while kill -0 "$PARENT" 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done',
  'kill $m 2>/dev/null; wait $m; rm -rf "$DIR"',
].join('\n');

/** A broker on 127.0.0.1:1883: the one already there, else a mosquitto we start and stop, else none. */
async function localBroker(port: number): Promise<{ note: string; child?: ChildProcess; none?: true }> {
  if (await portOpen('127.0.0.1', port)) return { note: `using the broker already on 127.0.0.1:${port}` };
  const bin = mosquittoPaths.find((p) => existsSync(p));
  if (!bin)
    return {
      note: 'no mosquitto installed: running without a broker, results wait in the outbox',
      none: true,
    };
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-demo-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  // Its own process group: Ctrl-C reaches the agent, which publishes `offline` before we stop the broker.
  // Through a small watcher: when the demo is killed outright (SIGKILL, OOM) it has no chance to stop the
  // broker, so the watcher does, within half a second of the demo's end, and removes the config folder.
  const child = spawn('/bin/sh', ['-c', brokerWatcher], {
    stdio: 'ignore',
    detached: true,
    env: { ...process.env, BROKER: bin, CONF: conf, DIR: dir, PARENT: String(process.pid) },
  });
  // Its config's folder goes with it (a demo run every day left one folder a day in /tmp).
  process.once('exit', () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  // The watcher ends when mosquitto does (a port it may not bind): no need to wait the 5 s out.
  let ended = false;
  child.once('exit', () => (ended = true));
  for (let i = 0; i < 50 && !ended && !(await portOpen('127.0.0.1', port)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await portOpen('127.0.0.1', port))) {
    child.kill('SIGTERM');
    return {
      note: `${bin} did not start on 127.0.0.1:${port}: running without a broker, results wait in the outbox`,
      none: true,
    };
  }
  return { note: `started mosquitto on 127.0.0.1:${port}`, child };
}

export function registerDemo(program: Command, result: CliResult): void {
  program
    .command('demo')
    .description('run the bundled demo: a looping sample clip, a real detector, a local broker')
    .option('--data-dir <dir>', 'where the outbox lives', 'data/demo')
    .option('--http <host:port>', 'status page address (default 127.0.0.1:8080)')
    .action(async (opts: { dataDir: string; http?: string }) => {
      let cfg;
      try {
        cfg = loadConfig(demoConfig, {
          dataDir: path.resolve(opts.dataDir),
          ...(opts.http ? { http: opts.http } : {}),
        });
      } catch (err) {
        result.code = reportConfigError(err);
        return;
      }
      const model = Object.values(cfg.models)[0]!.path;
      const camera = cfg.cameras[0]!;
      // Only a local source can be looked for here: an rtsp:// or http(s):// camera is the agent's to reach.
      const kind = sourceKindOf(camera.source);
      const local = kind.name === 'file' || kind.name === 'v4l2';
      for (const [what, file, env] of [
        ['model', model, 'VIGIL_MODEL'],
        ...(local ? [['sample clip', kind.input(camera), 'VIGIL_SOURCE'] as const] : []),
      ] as const) {
        if (!existsSync(file)) {
          console.error(
            `vigil demo: ${what} not found at ${file}: set ${env} to a file (see README, "Models and clips")`,
          );
          result.code = 1;
          return;
        }
      }
      const url = new URL(cfg.mqtt!.url);
      const broker: Awaited<ReturnType<typeof localBroker>> =
        url.hostname === '127.0.0.1' || url.hostname === 'localhost'
          ? await localBroker(Number(url.port || 1883))
          : { note: `broker ${url.host}` };
      console.error(`vigil demo: ${broker.note}`);
      if (!broker.none)
        console.error(
          `vigil demo: watch the messages with: mosquitto_sub -h ${url.hostname} -p ${url.port || 1883} -t '${cfg.mqtt!.baseTopic}/#' -v`,
        );
      try {
        const { runAgent } = await import('../../runtime/run-agent.js');
        result.code = await runAgent(cfg);
      } finally {
        broker.child?.kill('SIGTERM');
      }
    });
}
