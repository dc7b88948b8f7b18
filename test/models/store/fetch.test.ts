import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchModel } from '../../../models/store/fetch.js';
import { loadManifest, manifestEntry, type ManifestEntry } from '../../../models/store/manifest.js';
import { verifyModels } from '../../../models/store/verify.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const file = 'yolo11n-coco-int8-320.onnx';

describe('the shipped manifest', () => {
  it('lists the three ../shared models with their README sha256, family, input and licence', () => {
    const m = loadManifest();
    expect(m.models.map((e) => e.id)).toEqual([
      'yolov8n-coco-int8-640',
      'yolo11n-coco-int8-320',
      'yolox-nano-coco-416',
    ]);
    if (!hasShared) return;
    const readme = readFileSync(sharedPath('README.md'), 'utf8');
    for (const e of m.models) {
      expect(readme).toContain(`| ${e.file} |`);
      expect(readme).toContain(e.sha256);
      expect(readme).toContain(`${e.input[0]}x${e.input[1]}`);
    }
    expect(manifestEntry(m, 'yolox-nano-coco-416')).toMatchObject({ family: 'yolox', licence: 'Apache-2.0' });
    expect(() => manifestEntry(m, 'nope')).toThrow(/unknown model "nope" \(known: yolov8n-coco-int8-640, /);
  });
});

describe.skipIf(!hasShared)('fetching models', () => {
  const bytes = hasShared ? readFileSync(sharedPath('models', file)) : Buffer.alloc(0);
  let server: Server;
  let base: string;
  const entry = (): ManifestEntry => ({
    ...manifestEntry(loadManifest(), 'yolo11n-coco-int8-320'),
    url: `${base}/good`,
  });
  const fresh = () => mkdtempSync(path.join(tmpdir(), 'vigil-fetch-'));
  const quiet = { progress: null } as const;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const altered = Buffer.from(bytes);
      altered[altered.length >> 1]! ^= 0xff;
      if (req.url === '/good' || req.url === `/mirror/${file}`) res.end(bytes);
      else if (req.url === '/altered') res.end(altered);
      else if (req.url === '/short') res.end(bytes.subarray(0, bytes.length - 1000));
      else if (req.url === '/cut') {
        // promises the whole file, sends half, then the connection drops
        res.writeHead(200, { 'content-length': bytes.length });
        res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads over HTTP, verifies size and sha256, installs under the manifest file name', async () => {
    const dir = fresh();
    const r = await fetchModel(entry(), { dir, ...quiet });
    expect(r).toEqual({ path: path.join(dir, file), from: `${base}/good`, bytes: bytes.length });
    expect(readFileSync(r.path).equals(bytes)).toBe(true);
    expect(readdirSync(dir)).toEqual([file]);
    // a second fetch finds it and checks it
    expect((await fetchModel(entry(), { dir, ...quiet })).from).toBe('present');
  });

  it.each([
    ['/altered', /sha256 [0-9a-f]{64}, expected 5ea9b19c.* \(altered or corrupt\)/],
    ['/short', /\d+ bytes, expected 2923867 \(truncated\)/],
    ['/cut', /refused, nothing installed: .*the transfer broke after \d+ of 2923867 bytes \(truncated/],
    ['/missing', /HTTP 404/],
  ])('refuses %s, installs nothing and leaves no partial file', async (url, why) => {
    const dir = fresh();
    await expect(fetchModel({ ...entry(), url: `${base}${url}` }, { dir, ...quiet })).rejects.toThrow(why);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('serves an air-gapped site from a mirror directory or a mirror URL, and refuses an altered mirror copy', async () => {
    const dir = fresh();
    const offline = { ...entry(), url: 'http://127.0.0.1:9/unreachable.onnx' };
    await expect(fetchModel(offline, { dir, ...quiet })).rejects.toThrow(/cannot reach .* use --mirror/);
    const r = await fetchModel(offline, { dir, mirror: sharedPath('models'), ...quiet });
    expect(r.from).toBe(sharedPath('models', file));
    expect(existsSync(path.join(dir, file))).toBe(true);
    const dir2 = fresh();
    expect((await fetchModel(offline, { dir: dir2, mirror: `${base}/mirror/`, ...quiet })).from).toBe(
      `${base}/mirror/${file}`,
    );
    const bad = fresh();
    const altered = Buffer.from(bytes);
    altered[100]! ^= 1;
    writeFileSync(path.join(bad, file), altered);
    const dir3 = fresh();
    await expect(fetchModel(offline, { dir: dir3, mirror: bad, ...quiet })).rejects.toThrow(
      /altered or corrupt/,
    );
    expect(readdirSync(dir3)).toEqual([]);
  });

  it('never overwrites or accepts an altered file already in place; verify reports it', async () => {
    const dir = fresh();
    const altered = Buffer.from(bytes);
    altered[7]! ^= 1;
    writeFileSync(path.join(dir, file), altered);
    copyFileSync(
      sharedPath('models', 'yolox-nano-coco-416.onnx'),
      path.join(dir, 'yolox-nano-coco-416.onnx'),
    );
    writeFileSync(path.join(dir, 'site-own.onnx'), 'x');
    await expect(fetchModel(entry(), { dir, ...quiet })).rejects.toThrow(
      /exists but does not match the manifest/,
    );
    const lines = await verifyModels(loadManifest(), dir);
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['yolov8n-coco-int8-640', 'missing'],
      ['yolo11n-coco-int8-320', 'mismatch'],
      ['yolox-nano-coco-416', 'ok'],
      ['-', 'unknown'],
    ]);
  });
});
