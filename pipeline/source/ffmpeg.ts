/**
 * The only module that talks to ffmpeg (through fluent-ffmpeg; ffprobe and version checks directly):
 * everything else sees probe results, a raw byte stream, stderr lines and an exit.
 */
import { execFile, execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { secretInput, showInput } from './secret-input.js';

export interface ProbedStream {
  width?: number;
  height?: number;
  codec?: string;
  avgFrameRate?: string;
  frameRate?: string;
  duration?: number;
}

/**
 * The first video stream of `input`, by ffprobe. Run directly rather than through fluent-ffmpeg's ffprobe,
 * which gives no way to stop it: a source that accepts the connection and never answers would keep one
 * ffprobe (and its connection) per retry. This one is killed at `timeoutMs`, or when `signal` aborts (a camera
 * stopped while it connects).
 */
export async function ffprobeVideo(
  input: string,
  args: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbedStream | undefined> {
  const hidden = secretInput(input, args);
  const argv = ['-show_streams', '-show_format', '-of', 'json', ...hidden.args, hidden.input];
  const probe = run(ffprobeBinary(), 'FFPROBE_PATH', argv, timeoutMs, signal, hidden.stdin);
  const stdout = await probe.catch((err: unknown) => {
    // stderr's last lines name the cause (refused, 404, not found); the caller picks it out.
    if (err instanceof CommandFailed) throw new Error(showInput(`${err.message}\n${err.stderr}`, hidden));
    throw err;
  });
  let data: ProbeOutput;
  try {
    data = JSON.parse(stdout) as ProbeOutput;
  } catch {
    throw new Error('ffprobe printed something other than JSON');
  }
  const v = data.streams?.find((s) => s.codec_type === 'video');
  if (!v) return undefined;
  const duration = Number(v.duration ?? data.format?.duration);
  return {
    width: v.width,
    height: v.height,
    codec: v.codec_name,
    avgFrameRate: v.avg_frame_rate,
    frameRate: v.r_frame_rate,
    duration: Number.isFinite(duration) ? duration : undefined,
  };
}

/** The parts of `ffprobe -of json -show_streams -show_format` read here. */
interface ProbeOutput {
  streams?: {
    codec_type?: string;
    width?: number;
    height?: number;
    codec_name?: string;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    duration?: string;
  }[];
  format?: { duration?: string };
}

export interface FfmpegProcess {
  stdout: Readable;
  /** Kills ffmpeg; `exit` fires afterwards. */
  kill(): void;
}

export interface FfmpegHandlers {
  onStderr(line: string): void;
  /** `error` is undefined when ffmpeg ended by itself with status 0. */
  onExit(error: Error | undefined): void;
}

export function spawnFfmpeg(
  input: string,
  inputArgs: string[],
  outputArgs: string[],
  handlers: FfmpegHandlers,
): FfmpegProcess {
  let exited = false;
  let killed = false;
  const hidden = secretInput(input, inputArgs);
  const source = hidden.stdin === undefined ? input : Readable.from([Buffer.from(hidden.stdin)]);
  const command = ffmpeg(source)
    .inputOptions(hidden.args)
    .outputOptions(outputArgs)
    // fluent-ffmpeg spawns ffmpeg asynchronously and ignores a kill() that comes before: kill it once it runs.
    .on('start', () => {
      if (killed) command.kill('SIGKILL');
    })
    .on('stderr', (line: string) => handlers.onStderr(showInput(line, hidden)))
    .on('error', (err: Error) => {
      if (exited) return;
      exited = true;
      handlers.onExit(hidden.stdin === undefined ? err : new Error(showInput(err.message, hidden)));
    })
    .on('end', () => {
      if (exited) return;
      exited = true;
      handlers.onExit(undefined);
    });
  const stdout = command.pipe() as Readable;
  return {
    stdout,
    kill: () => {
      killed = true;
      try {
        command.kill('SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** The binaries fluent-ffmpeg runs: FFMPEG_PATH / FFPROBE_PATH when set, else whatever PATH finds. */
export const ffmpegBinary = () => process.env.FFMPEG_PATH || 'ffmpeg';
export const ffprobeBinary = () => process.env.FFPROBE_PATH || 'ffprobe';

export interface FfmpegCapabilities {
  /** `5.1.9-0+deb12u1`, `n7.1.1`, `N-113-gabcdef` (a git build). */
  version: string;
  /** [major, minor], when the version names one. */
  release?: [number, number];
  hwaccels: string[];
  /** Every decoder name (`h264`, `h264_cuvid`, `h264_nvv4l2dec`, …). */
  decoders: string[];
}

/** A command that ran and failed: its first message line, and what it wrote to stderr. */
class CommandFailed extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/**
 * Runs a binary to completion; killed (SIGKILL) at `timeoutMs` or when `signal` aborts, so nothing is left
 * running after a timeout or a stop.
 */
function run(
  bin: string,
  envName: string,
  args: string[],
  timeoutMs: number,
  signal?: AbortSignal,
  stdin?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin,
      args,
      {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 4 * 1024 * 1024,
        windowsHide: true,
        ...(signal ? { signal } : {}),
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          reject(new Error(`${bin} not found (PATH or ${envName})`));
        else if (err.killed) reject(new Error(`no answer within ${timeoutMs} ms`));
        else reject(new CommandFailed(err.message.split('\n')[0]!, stderr));
      },
    );
    if (stdin === undefined) return;
    child.stdin?.on('error', () => {}); // it may fail and exit before it reads its input list
    child.stdin?.end(stdin);
  });
}

/** Decoder names from `ffmpeg -decoders` (lines like ` V....D h264_nvv4l2dec  NVIDIA …`). */
export function parseDecoders(text: string): string[] {
  const names: string[] = [];
  let body = false;
  for (const line of text.split('\n')) {
    if (/^\s*-{6}/.test(line)) {
      body = true;
      continue;
    }
    const m = body ? /^\s*[VASDT.][A-Z.]{5}\s+(\S+)/.exec(line) : null;
    if (m) names.push(m[1]!);
  }
  return names;
}

/** Method names from `ffmpeg -hwaccels` (one per line after the heading). */
export function parseHwaccels(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/:$/.test(l));
}

/** `ffmpeg version 5.1.9-0+deb12u1 Copyright …` -> version and [5, 1]. */
export function parseVersion(text: string): { version: string; release?: [number, number] } {
  const version = /ffmpeg version (\S+)/.exec(text)?.[1] ?? 'unknown';
  const m = /^n?(\d+)\.(\d+)/.exec(version);
  return m ? { version, release: [Number(m[1]), Number(m[2])] } : { version };
}

/** Asks the ffmpeg that will run for its version, hwaccel methods and decoders (for `vigil doctor`). */
export async function ffmpegCapabilities(timeoutMs = 10_000): Promise<FfmpegCapabilities> {
  const bin = ffmpegBinary();
  const [versionText, hwaccelText, decoderText] = await Promise.all([
    run(bin, 'FFMPEG_PATH', ['-hide_banner', '-version'], timeoutMs),
    run(bin, 'FFMPEG_PATH', ['-hide_banner', '-hwaccels'], timeoutMs),
    run(bin, 'FFMPEG_PATH', ['-hide_banner', '-decoders'], timeoutMs),
  ]);
  return {
    ...parseVersion(versionText),
    hwaccels: parseHwaccels(hwaccelText),
    decoders: parseDecoders(decoderText),
  };
}

/** `ffprobe -version`'s version, or the reason it would not run. */
export async function ffprobeVersion(timeoutMs = 10_000): Promise<string> {
  const text = await run(ffprobeBinary(), 'FFPROBE_PATH', ['-hide_banner', '-version'], timeoutMs);
  return parseVersion(text.replace('ffprobe version', 'ffmpeg version')).version;
}

let decoderCache: ReadonlySet<string> | undefined;

/**
 * The decoder names, asked once per process and remembered: the Jetson preset needs them to pick a
 * decoder when a camera (re)starts, where an async call does not fit. Empty when ffmpeg would not run
 * (starting the camera then fails with ffmpeg's own error).
 */
export function ffmpegDecodersSync(): ReadonlySet<string> {
  if (!decoderCache) {
    try {
      const text = execFileSync(ffmpegBinary(), ['-hide_banner', '-decoders'], {
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 4 * 1024 * 1024,
      }).toString();
      decoderCache = new Set(parseDecoders(text));
    } catch {
      return new Set();
    }
  }
  return decoderCache;
}
