import { existsSync } from 'node:fs';
import type { VigilConfig } from '../../config/schema.js';
import { ffmpegCapabilities, ffprobeVersion, type FfmpegCapabilities } from '../../pipeline/source/ffmpeg.js';
import { jetsonDecoders, vaapiDevice, type HwaccelPreset } from '../../pipeline/source/hwaccel.js';
import { errorText, result, type CheckResult } from './check.js';

/** The pipeline passes `-fps_mode` (5.1+) and RTSP `-timeout` in microseconds (5.0+). */
const minimumRelease: [number, number] = [5, 1];

/** Decoder name suffixes that mean a hardware decoder. */
const hardwareFamilies =
  /_(cuvid|nvv4l2dec|nvmpi|qsv|v4l2m2m|vaapi|rkmpp|mediacodec|videotoolbox|amf|vulkan)$/;

function hardwareSummary(decoders: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const d of decoders) {
    const family = hardwareFamilies.exec(d)?.[1];
    if (family) counts.set(family, (counts.get(family) ?? 0) + 1);
  }
  return [...counts].map(([family, n]) => `${family} x${n}`).join(', ') || 'none';
}

function presetCheck(preset: HwaccelPreset, cameras: string[], caps: FfmpegCapabilities): CheckResult {
  const who = `camera${cameras.length > 1 ? 's' : ''} ${cameras.join(', ')}`;
  switch (preset) {
    case 'jetson': {
      const have = new Set(caps.decoders);
      const found = Object.values(jetsonDecoders)
        .flat()
        .filter((d) => have.has(d));
      return found.length
        ? result('hwaccel', preset, 'pass', `${found.join(', ')} (${who})`)
        : result(
            'hwaccel',
            preset,
            'warn',
            `this ffmpeg has no Jetson decoders (*_nvv4l2dec, *_nvmpi): ${who} ${cameras.length > 1 ? 'decode' : 'decodes'} in software`,
          );
    }
    case 'cuda':
      return caps.hwaccels.includes('cuda')
        ? result(
            'hwaccel',
            preset,
            'pass',
            `-hwaccel cuda available (${who}); the camera check shows a device opens`,
          )
        : result('hwaccel', preset, 'fail', `this ffmpeg has no cuda hwaccel: ${who} will not start`);
    case 'vaapi':
      if (!caps.hwaccels.includes('vaapi')) {
        return result('hwaccel', preset, 'fail', `this ffmpeg has no vaapi hwaccel: ${who} will not start`);
      }
      return existsSync(vaapiDevice)
        ? result('hwaccel', preset, 'pass', `-hwaccel vaapi on ${vaapiDevice} (${who})`)
        : result(
            'hwaccel',
            preset,
            'fail',
            `${vaapiDevice} is missing (pass the device to the container?): ${who} will not start`,
          );
    case 'none':
      return result('hwaccel', preset, 'pass', `software decode (${who})`);
  }
}

/** ffmpeg and ffprobe present, recent enough, and what hardware decoding they offer the configured presets. */
export async function checkFfmpeg(cfg: VigilConfig): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  let caps: FfmpegCapabilities | undefined;
  try {
    caps = await ffmpegCapabilities();
    const [major, minor] = caps.release ?? [Infinity, 0];
    const old = major < minimumRelease[0] || (major === minimumRelease[0] && minor < minimumRelease[1]);
    const detail = `${caps.version}; hwaccels: ${caps.hwaccels.join(', ') || 'none'}; hardware decoders: ${hardwareSummary(caps.decoders)}`;
    out.push(
      old
        ? result(
            'ffmpeg',
            undefined,
            'fail',
            `${caps.version} is older than ${minimumRelease.join('.')}: the pipeline needs -fps_mode`,
          )
        : result('ffmpeg', undefined, 'pass', detail),
    );
  } catch (err) {
    out.push(result('ffmpeg', undefined, 'fail', errorText(err)));
  }
  try {
    out.push(result('ffprobe', undefined, 'pass', await ffprobeVersion()));
  } catch (err) {
    out.push(result('ffprobe', undefined, 'fail', errorText(err)));
  }
  const byPreset = new Map<HwaccelPreset, string[]>();
  for (const c of cfg.cameras.filter((c) => c.enabled && c.hwaccel !== 'none')) {
    byPreset.set(c.hwaccel, [...(byPreset.get(c.hwaccel) ?? []), c.id]);
  }
  for (const [preset, cameras] of byPreset) {
    out.push(
      caps ? presetCheck(preset, cameras, caps) : result('hwaccel', preset, 'skip', 'ffmpeg did not run'),
    );
  }
  return out;
}
