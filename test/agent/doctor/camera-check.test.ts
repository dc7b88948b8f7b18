import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCamera } from '../../../agent/doctor/camera-check.js';
import { CameraConfig } from '../../../config/schema.js';
import { startRtspServer, type RtspServer } from '../../support/rtsp.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const camera = (over: Partial<CameraConfig>) =>
  CameraConfig.parse({ id: 'gate', source: sharedPath('media', 'vtest.avi'), model: 'm', ...over });

describe.skipIf(!hasShared)('camera check through the real pipeline', () => {
  let rtsp: RtspServer;
  beforeAll(async () => {
    rtsp = await startRtspServer(sharedPath('media', 'vtest.avi'));
  });
  afterAll(() => rtsp?.stop());

  it('passes a live RTSP stream on its first frame', async () => {
    expect(await checkCamera(camera({ source: rtsp.url }))).toMatchObject({
      check: 'camera',
      subject: 'gate',
      verdict: 'pass',
      detail: expect.stringMatching(/^first frame after \d+\.\d s \(768x576\)$/),
    });
  });

  it('fails an RTSP path the server does not have, with the server’s answer', async () => {
    const r = await checkCamera(camera({ source: rtsp.url.replace(/stream$/, 'nope') }), 10);
    expect(r).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/404 Not Found/) });
  });

  it('fails a camera nobody answers for, naming the refusal (credentials hidden)', async () => {
    const r = await checkCamera(camera({ source: 'rtsp://admin:hunter2@127.0.0.1:9/live' }), 5);
    expect(r).toMatchObject({ verdict: 'fail', detail: 'rtsp://***@127.0.0.1:9/live: Connection refused' });
  });

  it('fails a hardware preset this ffmpeg cannot open, with ffmpeg’s reason', async () => {
    // this box has no GPU: -hwaccel cuda cannot create a device
    const r = await checkCamera(camera({ hwaccel: 'cuda', realtime: false }), 10);
    expect(r).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/hwaccel cuda$/) });
  });

  it('fails a missing file and skips a disabled camera', async () => {
    expect(await checkCamera(camera({ source: '/nonexistent/clip.mp4' }), 5)).toMatchObject({
      verdict: 'fail',
      detail: 'source file not found: /nonexistent/clip.mp4',
    });
    expect((await checkCamera(camera({ enabled: false }), 5)).verdict).toBe('skip');
  });
});
