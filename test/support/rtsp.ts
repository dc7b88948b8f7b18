import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const script = fileURLToPath(new URL('./rtsp-server.py', import.meta.url));

export interface RtspServer {
  url: string;
  port: number;
  /** Kills the server (clients see the connection drop). */
  stop(): Promise<void>;
  /** Starts it again on the same port and mount. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but no frame arrives, as with a hung camera. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
}

/**
 * A real RTSP server (GStreamer gst-rtsp-server, Debian's python3-gi) streaming `file` in real time; with
 * `credentials` (`user:password`) it asks for them, as an IP camera does (`url` carries none).
 */
export async function startRtspServer(
  file: string,
  opts: { port?: number; mount?: string; credentials?: string } = {},
): Promise<RtspServer> {
  const port = opts.port ?? (await freePort());
  const mount = opts.mount ?? 'stream';
  let child: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const auth = opts.credentials ? [opts.credentials] : [];
      const proc = spawn('/usr/bin/python3', [script, file, String(port), mount, ...auth], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let out = '';
      const timer = setTimeout(() => reject(new Error(`RTSP server did not start: ${out}`)), 10_000);
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('READY')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
      proc.once('exit', (code) => {
        clearTimeout(timer);
        if (!out.includes('READY')) reject(new Error(`RTSP server exited ${code}: ${out}`));
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  await start();
  const pause = () => void child?.kill('SIGSTOP');
  const resume = () => void child?.kill('SIGCONT');
  return { url: `rtsp://127.0.0.1:${port}/${mount}`, port, stop, start, pause, resume };
}
