import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../config/logger.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import { frameFilter } from '../../../pipeline/source/ffmpeg-args.js';
import { camera, planFor, v8, yolox } from './ffmpeg-args-fixture.js';

// The planned arguments run on a real ffmpeg: ffmpeg-args-real-ffmpeg.test.ts.

/** The first frame of each 1/fps slot of source time (select, never ffmpeg's duplicating fps filter). */
const limit = (fps: number) =>
  `select=gte(isnan(t)+isnan(prev_selected_t)+gt(floor(t*${fps}+1e-6)\\,floor(prev_selected_t*${fps}+1e-6))\\,1)`;

describe('frameFilter', () => {
  it('rate-limits, scales to the letterbox, pads with the family grey where it pads, and logs pts', () => {
    const lb = computeLetterbox(768, 576, v8); // 320×240 at (0, 40)
    expect(frameFilter(camera('/c.mp4', { fps: 5 }), lb, v8)).toBe(
      `${limit(5)},scale=320:240:flags=bilinear,pad=320:320:0:40:color=0x727272,showinfo=checksum=0`,
    );
    expect(frameFilter(camera('/c.mp4'), lb, v8)).toBe(
      'scale=320:240:flags=bilinear,pad=320:320:0:40:color=0x727272,showinfo=checksum=0',
    );
    const tall = computeLetterbox(480, 640, yolox); // 240×320 at (0, 0), padded right
    expect(frameFilter(camera('/c.mp4', { fps: 2.5 }), tall, { ...yolox, padValue: 5 })).toBe(
      `${limit(2.5)},scale=240:320:flags=bilinear,pad=320:320:0:0:color=0x050505,showinfo=checksum=0`,
    );
  });
});

describe('planFfmpeg per source kind', () => {
  const common = ['-nostdin', '-nostats', '-loglevel', 'info'];
  const output = (order: string, filter: string) => [
    ...['-an', '-sn', '-vf', filter, '-fps_mode', 'passthrough', '-pix_fmt', order],
    ...['-threads', '1', '-f', 'rawvideo'],
  ];
  const filter = 'scale=320:240:flags=bilinear,pad=320:320:0:40:color=0x727272,showinfo=checksum=0';

  it('rtsp: TCP, the connect timeout in µs, the URL (credentials included) as the input', () => {
    const p = planFor('rtsp://admin:s3cret@10.0.0.5:554/stream', { connectTimeoutS: 7 });
    expect(p).toEqual({
      input: 'rtsp://admin:s3cret@10.0.0.5:554/stream',
      inputArgs: [...common, '-rtsp_transport', 'tcp', '-timeout', '7000000'],
      outputArgs: output('rgb24', filter),
      frameBytes: 320 * 320 * 3,
    });
  });

  it('usb (/dev/video*): the v4l2 demuxer', () => {
    const p = planFor('/dev/video0');
    expect(p.input).toBe('/dev/video0');
    expect(p.inputArgs).toEqual([...common, '-f', 'v4l2']);
  });

  it('http: a read/write timeout in µs', () => {
    const p = planFor('http://10.0.0.5/mjpeg', { connectTimeoutS: 2.5 });
    expect(p.input).toBe('http://10.0.0.5/mjpeg');
    expect(p.inputArgs).toEqual([...common, '-rw_timeout', '2500000']);
  });

  it('file: realtime and loop only when asked; file:// URLs become paths', () => {
    expect(planFor('/data/c.mp4', { realtime: true, loop: true }).inputArgs).toEqual([
      ...common,
      '-re',
      '-stream_loop',
      '-1',
    ]);
    expect(planFor('/data/c.mp4', { realtime: false, loop: false }).inputArgs).toEqual(common);
    expect(planFor('file:///data/clip%201.mp4').input).toBe('/data/clip 1.mp4');
  });

  it('hardware decode arguments go before the source kind’s, all before -i', () => {
    const p = planFor('rtsp://10.0.0.5/s', { hwaccel: 'cuda', connectTimeoutS: 1 });
    expect(p.inputArgs).toEqual([
      ...common,
      '-hwaccel',
      'cuda',
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '1000000',
    ]);
  });

  it('the family’s channel order and frame size', () => {
    const p = planFor('/c.mp4', {}, yolox);
    expect(p.outputArgs).toEqual(
      output('bgr24', 'scale=320:240:flags=bilinear,pad=320:320:0:0:color=0x727272,showinfo=checksum=0'),
    );
    expect(p.frameBytes).toBe(320 * 320 * 3);
    const wide = { ...v8, width: 640, height: 384 };
    expect(planFor('/c.mp4', {}, wide).frameBytes).toBe(640 * 384 * 3);
  });

  it('never logs credentials: the args line camera-frames logs goes out redacted', () => {
    const p = planFor('rtsp://admin:s3cret@10.0.0.5/stream?token=abc123');
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    log.debug('ffmpeg starting', { args: [...p.inputArgs, '-i', p.input, ...p.outputArgs].join(' ') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('rtsp://***@10.0.0.5/stream?token=***');
    expect(lines[0]).not.toMatch(/s3cret|abc123|admin/);
    // the credentials are in the input only, never copied into another argument
    expect([...p.inputArgs, ...p.outputArgs].join(' ')).not.toMatch(/s3cret|admin|abc123/);
  });
});
