import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { applyDocument, type DocumentApply } from '../../../agent/fleet/apply-document.js';
import { ConfigStore } from '../../../agent/fleet/config-store.js';
import {
  fleetPrivateKey,
  generateFleetKey,
  keyRing,
  signDocument,
} from '../../../agent/fleet/fleet-signature.js';
import { verifyDocument } from '../../../agent/fleet/verify-document.js';
import { FleetDocument, type FleetBodyInput } from '../../../agent/fleet/fleet-document.js';
import type { Running } from '../../../agent/fleet/fleet-reporter.js';
import { SimHost } from '../../../agent/fleet/sim-host.js';
import { logLines } from '../../support/log-lines.js';

// One document applied on a light host (agent/fleet/sim-host.ts: synthetic cameras, real ConfigStore and
// apply logic); how documents reach it and how outcomes are reported is fleet-service.test.ts's.

const key = generateFleetKey();
let dir: string;
let host: SimHost;
let store: ConfigStore;
let lines: ReturnType<typeof logLines>['lines'];
let applied: Running[];

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-apply-doc-'));
  writeFileSync(path.join(dir, 'det.onnx'), 'sim');
  const config = validateConfig({
    site: 'yard',
    device: 'd1',
    dataDir: path.join(dir, 'data'),
    http: { enabled: false },
    models: { det: { path: path.join(dir, 'det.onnx') } },
    cameras: [{ id: 'a', source: '/sim/a', model: 'det', fps: 10 }],
    fleet: { keys: [key.publicBase64], groups: ['north'], healthDeadlineS: 1.5 },
  });
  const logged = logLines();
  lines = logged.lines;
  host = new SimHost(config, logged.log);
  await host.startAll();
  store = new ConfigStore(config.dataDir);
  applied = [];
});

afterEach(() => {
  delete process.env.SIM_CAMERA;
  host?.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

function context(): DocumentApply {
  return {
    host,
    store,
    healthDeadlineMs: 10_000, // a bound, not a wait: the apply goes on once the cameras stream
    running: () => ({ revision: 0, source: 'file' }),
    shadow: () => undefined,
    startTrial: () => {},
    applied: (running) => void applied.push(running),
  };
}

/** A document as verify-document.ts hands it over: signed with the real key, parsed by its schema. */
function doc(revision: number, config: FleetBodyInput): FleetDocument {
  return FleetDocument.parse(
    signDocument({ revision, target: 'group:north', config }, fleetPrivateKey(key.privatePem)),
  );
}

describe('applyDocument', () => {
  it('applies a changed camera, persists it as last-known-good and says what the box runs now', async () => {
    const body = {
      models: { det: { path: path.join(dir, 'det.onnx') } },
      cameras: [{ id: 'a', source: '/sim/a', model: 'det', fps: 5 }],
    };
    const outcome = await applyDocument(context(), doc(3, body), 'digest-3', { raw: true });
    expect(outcome).toMatchObject({ revision: 3, status: 'applied', errors: [] });
    expect(outcome.changed.length).toBeGreaterThan(0);
    expect(host.config.cameras[0]!.fps).toBe(5);
    expect(host.config.fleet?.revision).toBe(3);
    expect(store.load()).toMatchObject({ revision: 3, digest: 'digest-3', document: { raw: true } });
    expect(applied).toEqual([{ revision: 3, source: 'fleet', stored: store.load() }]);
    expect(lines.map((l) => l.msg)).toContain('fleet: applied');
  });

  it('rolls back a document whose model cannot be had: nothing persisted, the box runs on as it was', async () => {
    const body = {
      models: { det: { path: path.join(dir, 'missing.onnx') } },
      cameras: [{ id: 'a', source: '/sim/a', model: 'det', fps: 5 }],
    };
    const outcome = await applyDocument(context(), doc(4, body), 'digest-4', {});
    expect(outcome).toMatchObject({ revision: 4, status: 'rolled_back' });
    expect(outcome.errors).toHaveLength(1);
    expect(host.config.cameras[0]!.fps).toBe(10);
    expect(store.load()).toBeUndefined();
    expect(applied).toEqual([]);
  });

  it('tells the operator of a setting the push makes insecure, once: the box would say it only at its next start', async () => {
    const camera = (source: string) => ({
      models: { det: { path: path.join(dir, 'det.onnx') } },
      cameras: [{ id: 'a', source, model: 'det', fps: 5 }],
    });
    const clear = 'http://viewer:pw@10.0.0.5/video.mjpg';
    const first = await applyDocument(context(), doc(6, camera(clear)), 'digest-6', {});
    const why =
      'camera a: the credentials in its source (user and password) go to 10.0.0.5 in clear (http:// has no TLS); ' +
      'use https:// if the camera offers it, or keep it on a closed LAN';
    expect(first).toMatchObject({
      status: 'applied',
      warnings: [`insecure setting: cameras[0].source: ${why}`],
    });
    expect(lines.filter((l) => l.msg === 'insecure setting')).toEqual([
      expect.objectContaining({ level: 'warn', field: 'cameras[0].source', why }),
    ]);
    expect(JSON.stringify(first)).not.toContain(':pw@');
    // The next push keeps it: nothing new to say.
    const second = await applyDocument(
      context(),
      doc(7, { ...camera(clear), cameras: [{ ...camera(clear).cameras[0]!, fps: 4 }] }),
      'digest-7',
      {},
    );
    expect(second).toMatchObject({ status: 'applied' });
    expect(second.warnings).toBeUndefined();
  });

  it("runs the body's ${VAR} references expanded, and persists them as references, not this box's values", async () => {
    const body = {
      models: { det: { path: path.join(dir, 'det.onnx') } },
      cameras: [{ id: 'a', source: '/sim/${SIM_CAMERA}', model: 'det', fps: 5 }],
    };
    const signed = signDocument(
      { revision: 5, target: 'group:north', config: body },
      fleetPrivateKey(key.privatePem),
    );
    process.env.SIM_CAMERA = 'a'; // the box's environment: verify and the apply (composeConfig) read it
    const verdict = verifyDocument(Buffer.from(JSON.stringify(signed)), {
      keys: keyRing([key.publicBase64]),
      maxBytes: 64 * 1024,
      box: { site: 'yard', device: 'd1', groups: ['north'] },
      revision: 0,
    });
    if (!verdict.ok) throw new Error(verdict.reason);
    const outcome = await applyDocument(context(), verdict.doc, verdict.digest, signed);
    expect(outcome).toMatchObject({ status: 'applied', changed: ['cameras.a: fps'] });
    expect(host.config.cameras[0]!.source).toBe('/sim/a');
    const stored = store.load()!;
    expect(stored.managed.cameras[0]!.source).toBe('/sim/${SIM_CAMERA}');
    expect(stored.managed.cameras[0]!.fps).toBe(5);
    expect(JSON.stringify(stored)).not.toContain('/sim/a"');
  });
});
