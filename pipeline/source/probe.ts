import { redactUrl } from '../../config/redact-url.js';
import { ffprobeVideo } from './ffmpeg.js';

export interface ProbeInfo {
  width: number;
  height: number;
  codec: string;
  /** Frames per second the source declares (0 if unknown). */
  fps: number;
  /** Seconds, for files; null for live sources. */
  duration: number | null;
}

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [n, d] = rate.split('/').map(Number);
  return n && d ? n / d : 0;
}

/** ffprobe's last meaningful stderr line, which names the real cause (refused, 404, not found). */
function causeOf(err: unknown): string {
  const lines = String((err as Error)?.message ?? err)
    .split('\n')
    .map((l) => l.trim())
    .filter(
      (l) =>
        l &&
        !l.startsWith('ffprobe version') &&
        !l.startsWith('Command failed') &&
        !/^\s*(built|configuration|lib)/.test(l),
    );
  return lines.at(-1) ?? 'ffprobe failed';
}

/**
 * Asks ffprobe for the first video stream's geometry; the error names the cause, with credentials redacted.
 * ffprobe is killed at `timeoutMs` (a source that accepts the connection and never answers), or when `signal`
 * aborts.
 */
export async function probeSource(
  input: string,
  inputArgs: string[],
  timeoutMs = 20_000,
  signal?: AbortSignal,
): Promise<ProbeInfo> {
  const probeArgs = inputArgs.filter(
    (a, i, all) => a !== '-re' && a !== '-stream_loop' && all[i - 1] !== '-stream_loop',
  );
  const video = await ffprobeVideo(input, probeArgs, timeoutMs, signal).catch((err: unknown) => {
    throw new Error(redactUrl(causeOf(err)));
  });
  if (!video?.width || !video.height) throw new Error(`no video stream in ${redactUrl(input)}`);
  return {
    width: video.width,
    height: video.height,
    codec: video.codec ?? 'unknown',
    fps: parseRate(video.avgFrameRate) || parseRate(video.frameRate),
    duration: video.duration && video.duration > 0 ? video.duration : null,
  };
}
