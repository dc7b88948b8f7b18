import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkFfmpeg } from '../../../agent/doctor/ffmpeg-check.js';
import { checkModels } from '../../../agent/doctor/model-check.js';
import { checkProviders } from '../../../agent/doctor/provider-check.js';
import { tinyModel } from '../../../models/runtime/tiny-model.js';
import { sharedPath } from '../../support/shared.js';
import { doctorConfig } from './config.js';

describe('provider check (real onnxruntime, CPU only here)', () => {
  it('cpu passes; tensorrt and cuda warn with the reason while the model falls back to cpu', async () => {
    const results = await checkProviders(doctorConfig());
    expect(results.map((r) => [r.subject, r.verdict])).toEqual([
      ['tensorrt', 'warn'],
      ['cuda', 'warn'],
      ['cpu', 'pass'],
    ]);
    expect(results[0]!.detail).toMatch(
      /^OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library: .+; model det uses cpu$/,
    );
    expect(results[2]!.detail).toMatch(/^session created and ran in \d+ ms$/);
  });

  it('fails a provider when a model has nothing else that loads', async () => {
    const cfg = doctorConfig({
      models: {
        det: { path: '/m.onnx', providers: ['cuda'] },
        pm: { path: '/p.onnx', providers: ['cuda', 'cpu'] },
      },
      cameras: [{ id: 'c', source: '/x.mp4', model: 'det' }],
    });
    const [cuda, cpu] = await checkProviders(cfg);
    expect(cuda).toMatchObject({
      subject: 'cuda',
      verdict: 'fail',
      detail: expect.stringMatching(/; model det has no provider that loads$/),
    });
    expect(cpu).toMatchObject({ subject: 'cpu', verdict: 'pass' });
  });
});

describe('model check', () => {
  it('passes a model file that is there and fails one that is not', async () => {
    const cfg = doctorConfig({ models: { det: { path: '/nonexistent/det.onnx' } } });
    expect(await checkModels(cfg)).toEqual([
      { check: 'model', subject: 'det', verdict: 'fail', detail: 'file not found: /nonexistent/det.onnx' },
    ]);
    expect((await checkModels(doctorConfig()))[0]).toMatchObject({
      verdict: 'pass',
      detail: expect.stringMatching(/\(\d+\.\d MB\)$/),
    });
  });

  it('fails a truncated model and one that is not ONNX, as the agent would refuse them', async () => {
    // Found running doctor on a site whose model copy was cut short: "model PASS (0.1 MB)", then the agent
    // refused it ("not a valid ONNX file") and its cameras waited.
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-doctor-models-'));
    const whole = readFileSync(sharedPath('models', 'yolo11n-coco-int8-320.onnx'));
    const cut = path.join(dir, 'cut.onnx');
    writeFileSync(cut, whole.subarray(0, 100_000));
    const text = path.join(dir, 'text.onnx');
    writeFileSync(text, 'not a model\n');
    const cfg = doctorConfig({
      models: {
        cut: { path: cut },
        text: { path: text },
        pinned: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), sha256: '0'.repeat(64) },
      },
      cameras: [{ id: 'c', source: '/x.mp4', model: 'cut' }],
    });
    const [c, t, p] = await checkModels(cfg);
    expect(c).toMatchObject({
      subject: 'cut',
      verdict: 'fail',
      detail: expect.stringMatching(new RegExp(`^${cut}: not a valid ONNX file: .*truncated file\\?\\)$`)),
    });
    expect(t).toMatchObject({
      subject: 'text',
      verdict: 'fail',
      detail: expect.stringMatching(new RegExp(`^${text}: not a valid ONNX file`)),
    });
    expect(p).toMatchObject({
      subject: 'pinned',
      verdict: 'fail',
      detail: expect.stringMatching(
        / has sha256 [0-9a-f]{64}, expected 0{64} \(truncated or altered\): not loaded$/,
      ),
    });
  });

  it('fails a model the agent would refuse for what it is or how it is configured', async () => {
    // Found auditing bring-your-own-model: doctor said PASS for a non-detector, a forced family that does not
    // fit, a short classNames list and a labels typo; `vigil run` then refused each and its cameras waited.
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-doctor-models-'));
    const adder = path.join(dir, 'adder.onnx');
    writeFileSync(adder, tinyModel());
    const yolox = sharedPath('models', 'yolox-nano-coco-416.onnx');
    const cfg = doctorConfig({
      models: {
        adder: { path: adder },
        family: { path: yolox, family: 'yolov8' },
        names: { path: yolox, classNames: ['person', 'car'] },
        typo: { path: yolox, labels: { trucks: 'forklift' } },
        good: { path: yolox, labels: { truck: 'forklift' } },
      },
      cameras: [{ id: 'c', source: '/x.mp4', model: 'good' }],
    });
    expect((await checkModels(cfg)).map((r) => [r.subject, r.verdict, r.detail])).toEqual([
      ['adder', 'fail', 'expected one 1×3×H×W image input, found x 1'],
      ['family', 'fail', expect.stringMatching(/^output output does not fit family yolov8: /)],
      ['names', 'fail', 'classNames lists 2 names but output 1×3549×85 holds 80 class scores'],
      ['typo', 'fail', expect.stringMatching(/^labels\.trucks \(did you mean "truck"\?\) names no class /)],
      ['good', 'pass', expect.stringMatching(/\(3\.7 MB\)$/)],
    ]);
  });
});

describe('ffmpeg check', () => {
  const saved = process.env.FFMPEG_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  });
  const withPresets = () =>
    doctorConfig({
      cameras: [
        { id: 'a', source: '/a.mp4', model: 'det', hwaccel: 'jetson' },
        { id: 'b', source: '/b.mp4', model: 'det', hwaccel: 'jetson' },
        { id: 'c', source: '/c.mp4', model: 'det', hwaccel: 'cuda' },
        { id: 'd', source: '/d.mp4', model: 'det', hwaccel: 'vaapi' },
      ],
    });

  it('reports this box’s ffmpeg, and what each configured preset gets from it', async () => {
    const [ffmpeg, ffprobe, jetson, cuda, vaapi] = await checkFfmpeg(withPresets());
    expect(ffmpeg).toMatchObject({
      check: 'ffmpeg',
      verdict: 'pass',
      detail: expect.stringMatching(/hwaccels: .*cuda.*; hardware decoders: .*cuvid x\d+/),
    });
    expect(ffprobe).toMatchObject({ check: 'ffprobe', verdict: 'pass' });
    expect(jetson).toEqual({
      check: 'hwaccel',
      subject: 'jetson',
      verdict: 'warn',
      detail: 'this ffmpeg has no Jetson decoders (*_nvv4l2dec, *_nvmpi): cameras a, b decode in software',
    });
    expect(cuda).toMatchObject({ subject: 'cuda', verdict: 'pass' });
    expect(vaapi).toMatchObject({
      subject: 'vaapi',
      verdict: 'fail',
      detail: expect.stringMatching(/^\/dev\/dri\/renderD128 is missing/),
    });
  });

  it('fails when ffmpeg is not there', async () => {
    process.env.FFMPEG_PATH = '/nonexistent/ffmpeg';
    const [ffmpeg, , jetson] = await checkFfmpeg(withPresets());
    expect(ffmpeg).toMatchObject({
      verdict: 'fail',
      detail: '/nonexistent/ffmpeg not found (PATH or FFMPEG_PATH)',
    });
    expect(jetson).toMatchObject({ verdict: 'skip' });
  });

  it('fails an ffmpeg older than 5.1 (as an L4T 4.x build would be)', async () => {
    // No ffmpeg 4 can be installed here: a script answers as one would.
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-ff4-'));
    const fake = path.join(dir, 'ffmpeg');
    writeFileSync(fake, '#!/bin/sh\necho "ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2000-2021"\n');
    chmodSync(fake, 0o755);
    process.env.FFMPEG_PATH = fake;
    const [ffmpeg] = await checkFfmpeg(doctorConfig());
    expect(ffmpeg).toMatchObject({
      verdict: 'fail',
      detail: '4.4.2-0ubuntu0.22.04.1 is older than 5.1: the pipeline needs -fps_mode',
    });
  });
});
