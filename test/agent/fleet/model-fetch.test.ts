import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { removeUnusedModels, resolveModels } from '../../../agent/fleet/model-fetch.js';
import { FleetModelConfig } from '../../../agent/fleet/fleet-document.js';
import { modelServer, sha256Of } from '../../support/fleet.js';
import { hasShared, sharedPath } from '../../support/shared.js';

const model = sharedPath('models', 'yolo11n-coco-int8-320.onnx');
const m = (input: object) => FleetModelConfig.parse(input);

describe.skipIf(!hasShared)('resolveModels: staging, verification, cache', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-model-fetch-'));
  const junk = path.join(dir, 'junk.onnx');
  writeFileSync(junk, 'not a model');
  let server: Awaited<ReturnType<typeof modelServer>>;
  beforeAll(async () => {
    server = await modelServer({ 'good.onnx': model, 'junk.onnx': junk });
  });
  afterAll(() => server?.close());

  it('downloads into staging, verifies, moves to <dataDir>/models/<sha256>.onnx, then reuses it', async () => {
    const data = path.join(dir, 'a');
    const sha = sha256Of(model);
    const out = await resolveModels(
      { det: m({ url: `${server.url}/good.onnx`, sha256: sha, confidence: 0.3 }) },
      data,
      {
        log: silentLogger,
      },
    );
    const file = path.join(data, 'models', `${sha}.onnx`);
    expect(out.det).toMatchObject({ path: file, confidence: 0.3 });
    expect(sha256Of(file)).toBe(sha);
    expect(readdirSync(path.join(data, 'models', 'staging'))).toEqual([]);
    // Cached: the same hash from an unreachable URL resolves to the verified file.
    const again = await resolveModels({ det: m({ url: 'http://127.0.0.1:9/x.onnx', sha256: sha }) }, data, {
      log: silentLogger,
    });
    expect(again.det!.path).toBe(file);
  });

  it('refuses a download whose sha256 differs, leaving nothing under a model name', async () => {
    const data = path.join(dir, 'b');
    const wrong = sha256Of(model);
    await expect(
      resolveModels({ det: m({ url: `${server.url}/junk.onnx`, sha256: wrong }) }, data, {
        log: silentLogger,
      }),
    ).rejects.toThrow(
      /model "det": sha256 mismatch: expected [0-9a-f]{64}, downloaded [0-9a-f]{64} \(11 bytes\)/,
    );
    expect(readdirSync(path.join(data, 'models')).filter((f) => f.endsWith('.onnx'))).toEqual([]);
    expect(readdirSync(path.join(data, 'models', 'staging'))).toEqual([]);
    await expect(
      resolveModels({ det: m({ url: `${server.url}/missing.onnx`, sha256: wrong }) }, data, {
        log: silentLogger,
      }),
    ).rejects.toThrow('model "det": download failed: HTTP 404');
  });

  it('a manifest id resolves through the manifest, from a local mirror', async () => {
    const data = path.join(dir, 'c');
    process.env.VIGIL_MODEL_MIRROR = sharedPath('models');
    try {
      const out = await resolveModels({ det: m({ manifest: 'yolo11n-coco-int8-320' }) }, data, {
        log: silentLogger,
      });
      expect(sha256Of(out.det!.path)).toBe(sha256Of(model));
    } finally {
      delete process.env.VIGIL_MODEL_MIRROR;
    }
    await expect(
      resolveModels({ det: m({ manifest: 'nope' }) }, data, { log: silentLogger }),
    ).rejects.toThrow(/model "det": unknown model "nope"/);
  });

  it('removes downloaded models no config uses once the new one is persisted', async () => {
    const data = path.join(dir, 'a');
    const models = path.join(data, 'models');
    const old = path.join(models, `${'0'.repeat(64)}.onnx`);
    writeFileSync(old, 'old');
    const keep = path.join(models, `${sha256Of(model)}.onnx`);
    expect(removeUnusedModels(data, [keep])).toEqual([old]);
    expect(existsSync(keep)).toBe(true);
    expect(existsSync(path.join(models, 'staging'))).toBe(false);
  });

  it('a document model gives exactly one of path, url + sha256, manifest', () => {
    expect(FleetModelConfig.safeParse({ path: '/a.onnx', manifest: 'x' }).success).toBe(false);
    expect(FleetModelConfig.safeParse({ url: 'http://h/a.onnx' }).success).toBe(false);
    expect(FleetModelConfig.safeParse({ path: 'relative.onnx' }).success).toBe(false);
    expect(FleetModelConfig.safeParse({ manifest: 'yolo11n-coco-int8-320' }).success).toBe(true);
  });
});

describe.skipIf(!hasShared)('resolveModels and removeUnusedModels: edge cases', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-model-fetch-edge-'));

  it('a relative dataDir (the default ./data): the model just resolved is kept, the unused one removed', async () => {
    const data = path.relative(process.cwd(), path.join(dir, 'rel'));
    expect(path.isAbsolute(data)).toBe(false);
    process.env.VIGIL_MODEL_MIRROR = sharedPath('models');
    let out;
    try {
      out = await resolveModels({ det: m({ manifest: 'yolo11n-coco-int8-320' }) }, data, {
        log: silentLogger,
      });
    } finally {
      delete process.env.VIGIL_MODEL_MIRROR;
    }
    const old = path.join(data, 'models', `${'0'.repeat(64)}.onnx`);
    writeFileSync(old, 'old');
    expect(removeUnusedModels(data, [out.det!.path])).toEqual([path.resolve(old)]);
    expect(existsSync(out.det!.path)).toBe(true);
  });

  it('a download cut off halfway fails with the cause and leaves no file, partial or final', async () => {
    const bytes = readFileSync(model);
    const server: Server = createServer((req, res) => {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const data = path.join(dir, 'half');
    try {
      await expect(
        resolveModels({ det: m({ url: `http://127.0.0.1:${port}/m.onnx`, sha256: sha256Of(model) }) }, data, {
          log: silentLogger,
        }),
      ).rejects.toThrow(/^model "det": download failed after \d+ bytes: other side closed$/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    expect(readdirSync(path.join(data, 'models')).filter((f) => f !== 'staging')).toEqual([]);
    expect(readdirSync(path.join(data, 'models', 'staging'))).toEqual([]);
  });
});
