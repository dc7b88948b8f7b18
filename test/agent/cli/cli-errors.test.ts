import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/agent-process.js';
import { hasShared, repoRoot, sharedPath } from '../../support/shared.js';

const errorLines = (output: string) => output.split('\n').filter((l) => l.startsWith('vigil:'));

describe('vigil CLI: clear errors and exit codes', () => {
  it('an invalid config file: one line per problem and exit code 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'site: yard\ndevice: box\nmodels: {}\ncameras:\n  - { id: a, source: rtsp://cam/1, model: det, fps: fast }\n',
    );
    const { code, output } = await runCli(['check-config', file]);
    expect(code).toBe(2);
    expect(errorLines(output)).toEqual([
      `vigil: config error in ${file}: cameras[0].fps: expected number, got "fast"`,
      `vigil: config error in ${file}: cameras[0].model: unknown model "det" (defined: none)`,
    ]);
  });

  it('a bad source URL: one line and exit code 2', async () => {
    const { code, output } = await runCli(['run', '--source', 'gopher://cam/1', '--model', '/m.onnx']);
    expect(code).toBe(2);
    expect(errorLines(output)).toEqual([
      'vigil: config error: cameras[0].source: unsupported source scheme "gopher:" (expected rtsp://, rtsps://, http(s)://, file://, a path or /dev/video*)',
    ]);
  });

  it('check-config accepts a valid config and hides credentials', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const file = path.join(dir, 'ok.yaml');
    writeFileSync(
      file,
      'site: yard\ndevice: box\nmodels: { det: { path: m.onnx } }\ncameras:\n  - { id: a, source: "rtsp://admin:hunter2@cam/1", model: det }\n',
    );
    const { code, output } = await runCli(['check-config', file]);
    expect(code).toBe(0);
    expect(output).toContain('camera a: rtsp://***@cam/1 -> model det');
    expect(output).not.toContain('hunter2');
    // m.onnx is not beside the config: valid still, with a warning that names the file.
    expect(output).toContain(`warning: model det: no file ${path.join(dir, 'm.onnx')} on this machine`);
  });

  it('check-config warns about local files and devices that are not on this machine, and passes the rest', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const file = path.join(dir, 'site.yaml');
    writeFileSync(path.join(dir, 'det.onnx'), 'weights');
    writeFileSync(path.join(dir, 'clip.mp4'), 'frames');
    writeFileSync(
      file,
      [
        'site: yard',
        'device: box',
        'models: { det: { path: det.onnx } }',
        'cameras:',
        '  - { id: a, source: clip.mp4, model: det }',
        '  - { id: b, source: "file:///nowhere/gone%20away.mp4", model: det }',
        '  - { id: c, source: /dev/video97, model: det }',
        '  - { id: d, source: "rtsp://cam/1", model: det }',
        '  - { id: e, source: ., model: det }',
        'mqtt:',
        '  url: mqtts://broker:8883',
        '  tls: { ca: clip.mp4, cert: certs/box.pem, key: . }',
        '',
      ].join('\n'),
    );
    const { code, output } = await runCli(['check-config', file]);
    expect(code).toBe(0);
    expect(output.split('\n').filter((l) => l.includes('warning:'))).toEqual([
      '  warning: camera b: no file /nowhere/gone away.mp4 on this machine',
      '  warning: camera c: no device /dev/video97 on this machine',
      `  warning: camera e: ${dir} is a directory, not a video file (the camera would fail)`,
      `  warning: mqtt.tls.ca: ${path.join(dir, 'clip.mp4')} holds no PEM certificate (-----BEGIN CERTIFICATE-----) (the broker link would fail)`,
      `  warning: mqtt.tls.cert: cannot read ${path.join(dir, 'certs/box.pem')}: no such file (the broker link would fail)`,
      `  warning: mqtt.tls.key: cannot read ${dir}: a directory, not a file (the broker link would fail)`,
      '  warning: (run `vigil doctor` on the box itself to check models, cameras and broker)',
    ]);
  });

  it.skipIf(!hasShared)('a missing model file: one clear line and exit code 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const { code, output } = await runCli([
      'run',
      '--source',
      sharedPath('media', 'vtest.avi'),
      '--model',
      '/nonexistent/model.onnx',
      '--data-dir',
      dir,
    ]);
    expect(code).toBe(1);
    expect(errorLines(output)).toEqual(['vigil: model "default": file not found: /nonexistent/model.onnx']);
  });

  it('run and doctor take the config file as an argument, like check-config', async () => {
    // Found typing `vigil run site.yaml` after `vigil check-config site.yaml`: "too many arguments" and a
    // full help page. The file named here is invalid, so the command stops at its config error either way.
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'site: yard\ndevice: box\nmodels: {}\ncameras: []\n');
    for (const command of ['run', 'doctor', 'check-config']) {
      const { code, output } = await runCli([command, file]);
      expect(code).toBe(2);
      expect(errorLines(output)).toEqual([
        `vigil: config error in ${file}: cameras: must be at least 1 item, got an array of 0`,
      ]);
    }
    const both = await runCli(['run', file, '--config', path.join(dir, 'other.yaml')]);
    expect(both.code).toBe(2);
    expect(errorLines(both.output)).toEqual([
      `vigil: config error: two config files: "${file}" and --config "${path.join(dir, 'other.yaml')}"; give one`,
    ]);
    const missing = await runCli(['doctor', path.join(dir, 'none.yaml')]);
    expect(errorLines(missing.output)).toEqual([
      `vigil: config error in ${path.join(dir, 'none.yaml')}: cannot read config file: no such file`,
    ]);
  });

  it('pm25 replay: a --calibrate-until that is not a time is a usage error naming the flag (exit 2)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const config = path.join(repoRoot, 'config', 'examples', 'pm25-milan.yaml');
    const args = ['pm25', 'replay', '--images', dir, '--config', config];
    const bad = await runCli([...args, '--labels', path.join(dir, 'l.csv'), '--calibrate-until', 'soon']);
    expect(bad.code).toBe(2);
    expect(errorLines(bad.output)).toEqual([
      'vigil: --calibrate-until: not a time: soon (2025-04-01 or 2025-04-01T06:00)',
    ]);
    const noLabels = await runCli([...args, '--calibrate-until', '2025-04-01']);
    expect(noLabels.code).toBe(2);
    expect(errorLines(noLabels.output)).toEqual(['vigil: --calibrate-until needs --labels']);
  });

  it('a usage mistake: the error and a one-line hint, not the whole help page', async () => {
    const { code, output } = await runCli(['run', '--conifg', 'x.yaml']);
    expect(code).toBe(2);
    expect(output.trim().split('\n')).toEqual([
      "error: unknown option '--conifg'",
      '(Did you mean --config?)',
      '(add --help for the usage)',
    ]);
  });
});
