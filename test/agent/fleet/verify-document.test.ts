import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fleetKeyId } from '../../../config/fleet-schema.js';
import type { FleetBodyInput } from '../../../agent/fleet/fleet-document.js';
import { keyRing, signDocument, signedBytes } from '../../../agent/fleet/fleet-signature.js';
import {
  refusalCodes,
  verifyDocument,
  type RefusalCode,
  type VerifyContext,
} from '../../../agent/fleet/verify-document.js';

const trusted = generateKeyPairSync('ed25519');
const second = generateKeyPairSync('ed25519'); // also trusted: a box may pin several keys
const stranger = generateKeyPairSync('ed25519');
const rawPublic = (k: typeof trusted) =>
  k.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');

const box = { site: 'yard', device: 'box1', groups: ['north', 'forklifts'] };
const current = 100;
const ctx: VerifyContext = {
  keys: keyRing([rawPublic(trusted), trusted.publicKey.export({ format: 'pem', type: 'spki' }).toString()]),
  maxBytes: 64 * 1024,
  box,
  revision: current,
};
const ctx2: VerifyContext = { ...ctx, keys: keyRing([rawPublic(trusted), rawPublic(second)]) };

const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc));

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const body: fc.Arbitrary<FleetBodyInput> = fc
  .record({
    cams: fc.uniqueArray(id, { minLength: 1, maxLength: 4 }),
    fps: fc.integer({ min: 1, max: 30 }),
    loop: fc.boolean(),
    conf: fc.double({ min: 0, max: 1, noNaN: true }),
    labels: fc.dictionary(id, id, { maxKeys: 3 }),
  })
  .map(({ cams, fps, loop, conf, labels }) => ({
    models: { det: { path: '/opt/models/det.onnx', confidence: conf, labels } },
    cameras: cams.map((c, i) => ({ id: c, source: `rtsp://10.0.0.${i + 1}/s`, model: 'det', fps, loop })),
  }));
const matchingTarget = fc.constantFrom('group:north', 'group:forklifts', 'site:yard', 'device:yard/box1');
const otherTarget = fc.constantFrom('group:south', 'site:dock', 'device:yard/box2', 'device:dock/box1');
const signedDoc = (revision: number, target: string, config: FleetBodyInput, key = trusted.privateKey) =>
  signDocument({ revision, target: target as never, config }, key);

/** A signed document opened up for tampering. */
type Doc = {
  revision: number;
  target: string;
  issuedAt: string;
  signature: string;
  config: {
    models: { det: { path: string } };
    cameras: [{ fps: number; model: string; shell?: string }];
    firmware?: string;
  };
  extra?: number;
};

type Case = { kind: string; payload: Uint8Array; accept: boolean; codes?: RefusalCode[] };

const fresh = fc.integer({ min: current + 1, max: 1e12 });
const cases: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ r: fresh, t: matchingTarget, b: body }).map(({ r, t, b }) => ({
    kind: 'valid',
    payload: bytes(signedDoc(r, t, b)),
    accept: true,
  })),
  fc.jsonValue().map((v) => ({ kind: 'random json', payload: bytes(v), accept: false })),
  fc.uint8Array({ maxLength: 300 }).map((u) => ({ kind: 'random bytes', payload: u, accept: false })),
  fc
    .record({ r: fresh, b: body, cut: fc.double({ min: 0, max: 0.999, noNaN: true }) })
    .map(({ r, b, cut }) => {
      const full = bytes(signedDoc(r, 'site:yard', b));
      return { kind: 'truncated', payload: full.subarray(0, Math.floor(full.length * cut)), accept: false };
    }),
  fc
    .record({
      r: fresh,
      b: body,
      field: fc.constantFrom('revision', 'target', 'fps', 'issuedAt', 'signature', 'model path'),
    })
    .map(({ r, b, field }) => {
      const doc = signedDoc(r, 'site:yard', b) as unknown as Doc;
      if (field === 'revision') doc.revision += 1;
      if (field === 'target') doc.target = 'group:north';
      if (field === 'fps') doc.config.cameras[0].fps += 1;
      if (field === 'issuedAt') doc.issuedAt = '2030-01-01T00:00:00.000Z';
      if (field === 'model path') doc.config.models.det.path = '/tmp/evil.onnx';
      if (field === 'signature') {
        const sig = Buffer.from(doc.signature, 'base64');
        sig[r % 64]! ^= 1 << (r % 8);
        doc.signature = sig.toString('base64');
      }
      return {
        kind: `tampered ${field}`,
        payload: bytes(doc),
        accept: false,
        codes: ['bad-signature'] as RefusalCode[],
      };
    }),
  fc.record({ r: fresh, b: body }).map(({ r, b }) => ({
    kind: 'signed by an untrusted key',
    payload: bytes(signedDoc(r, 'site:yard', b, stranger.privateKey)),
    accept: false,
    codes: ['unknown-key'] as RefusalCode[],
  })),
  fc.record({ r: fresh, b: body }).map(({ r, b }) => {
    // Re-signed by another key but claiming the trusted key's id.
    const doc = signedDoc(r, 'site:yard', b, stranger.privateKey);
    doc.keyId = fleetKeyId(trusted.publicKey);
    return {
      kind: 'forged key id',
      payload: bytes(doc),
      accept: false,
      codes: ['bad-signature'] as RefusalCode[],
    };
  }),
  fc.record({ r: fc.integer({ min: 1, max: current }), t: matchingTarget, b: body }).map(({ r, t, b }) => ({
    kind: 'replayed / stale',
    payload: bytes(signedDoc(r, t, b)),
    accept: false,
    codes: ['stale'] as RefusalCode[],
  })),
  fc.record({ r: fresh, t: otherTarget, b: body }).map(({ r, t, b }) => ({
    kind: 'another box',
    payload: bytes(signedDoc(r, t, b)),
    accept: false,
    codes: ['wrong-target'] as RefusalCode[],
  })),
  fc
    .record({ r: fresh, b: body, where: fc.constantFrom('root', 'config', 'camera') })
    .map(({ r, b, where }) => {
      // Unknown fields, properly signed: the schema refuses them.
      const doc = signedDoc(r, 'site:yard', b) as unknown as Doc;
      if (where === 'root') doc.extra = 1;
      if (where === 'config') doc.config.firmware = 'x';
      if (where === 'camera') doc.config.cameras[0].shell = 'rm -rf /';
      doc.signature = sign(null, signedBytes(doc), trusted.privateKey).toString('base64');
      return {
        kind: `unknown field in ${where}`,
        payload: bytes(doc),
        accept: false,
        codes: ['schema'] as RefusalCode[],
      };
    }),
  fc.record({ r: fresh, b: body }).map(({ r, b }) => {
    const doc = signedDoc(r, 'site:yard', b);
    return {
      kind: 'oversized',
      payload: Buffer.from(JSON.stringify(doc).padEnd(ctx.maxBytes + 1, ' ')),
      accept: false,
      codes: ['oversized'] as RefusalCode[],
    };
  }),
);

describe('verifyDocument', () => {
  it('1,000 generated documents: no crash, nothing wrongly accepted, every refusal with a reason', () => {
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(cases, (c) => {
        kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
        const v = verifyDocument(c.payload, ctx); // never throws: a throw fails the property
        expect(v.ok).toBe(c.accept);
        if (!v.ok) {
          expect(refusalCodes).toContain(v.code);
          expect(v.reason.length).toBeGreaterThan(5);
          if (c.codes) expect(c.codes).toContain(v.code);
        }
      }),
      { numRuns: 1000 },
    );
    // The generator reached the kinds (11 families, 19 variants; about 15 runs each for the rarest). At
    // least once each, not "several times": a run once drew a variant only 3 times, and the test failed.
    expect(kinds.size).toBeGreaterThanOrEqual(15);
    for (const n of kinds.values()) expect(n).toBeGreaterThan(0);
  });

  it('accepts any pinned key, and refuses a duplicate of the document it already ran', () => {
    const doc = signedDoc(
      current + 5,
      'group:north',
      {
        models: { det: { path: '/opt/m.onnx' } },
        cameras: [{ id: 'a', source: '/dev/video0', model: 'det' }],
      },
      second.privateKey,
    );
    const v = verifyDocument(bytes(doc), ctx2);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    // Whitespace on the wire does not change the digest: the same document re-sent is a duplicate.
    const again = verifyDocument(Buffer.from(JSON.stringify(doc, null, 4)), {
      ...ctx2,
      revision: current + 5,
      digest: v.digest,
    });
    expect(again).toMatchObject({ ok: false, code: 'duplicate' });
    expect(verifyDocument(bytes(doc), ctx)).toMatchObject({ ok: false, code: 'unknown-key' });
  });

  it('refuses a signed body that is not a valid config, saying where', () => {
    const doc = signedDoc(current + 1, 'site:yard', {
      models: { det: { path: '/opt/m.onnx' } },
      cameras: [{ id: 'a', source: '/dev/video0', model: 'det' }],
    }) as unknown as Doc;
    doc.config.cameras[0].model = 'nope';
    doc.signature = sign(null, signedBytes(doc), trusted.privateKey).toString('base64');
    const v = verifyDocument(bytes(doc), ctx);
    expect(v).toMatchObject({ ok: false, code: 'schema' });
    expect(!v.ok && v.reason).toContain('unknown model "nope"');
  });

  it("expands the body's ${VAR} references from the box's environment, after the signature over them", () => {
    const doc = signedDoc(current + 1, 'site:yard', {
      models: { det: { path: '/opt/m.onnx' } },
      cameras: [{ id: 'a', source: 'rtsp://cam:${CAM_PASS}@10.0.0.5/s', model: 'det' }],
      mqtt: { url: 'mqtt://broker:1883', username: 'box', password: '${MQTT_PASS}' },
      http: { auth: { token: '${TOKEN}' } }, // 8 characters as written: checked as expanded
    });
    const env = { CAM_PASS: 'c@m:pw', MQTT_PASS: 'mq-pw', TOKEN: '0123456789abcdef0123' };
    const v = verifyDocument(bytes(doc), { ...ctx, env });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.doc.config.cameras[0]!.source).toBe('rtsp://cam:c@m:pw@10.0.0.5/s');
    expect(v.doc.config.mqtt?.password).toBe('mq-pw');
    expect(v.doc.config.http?.auth?.token).toBe(env.TOKEN);
    // A variable this box lacks is a refusal naming it (set it, restart: the retained document applies).
    const lacking = verifyDocument(bytes(doc), { ...ctx, env: { CAM_PASS: 'x', TOKEN: env.TOKEN } });
    expect(lacking).toMatchObject({ ok: false, code: 'schema', revision: current + 1 });
    expect(!lacking.ok && lacking.reason).toBe(
      "this box's environment: config.mqtt.password: environment variable MQTT_PASS is not set (set it, or write ${MQTT_PASS:-default})",
    );
    // An old retained document is not news, whatever this box's environment lacks.
    expect(verifyDocument(bytes(doc), { ...ctx, env: {}, revision: current + 1 })).toMatchObject({
      code: 'stale',
    });
  });

  it('names the revision the box runs when a higher one was tried and rolled back', () => {
    const config: FleetBodyInput = {
      models: { det: { path: '/opt/m.onnx' } },
      cameras: [{ id: 'a', source: '/dev/video0', model: 'det' }],
    };
    const stale = bytes(signedDoc(current - 1, 'site:yard', config));
    expect(verifyDocument(stale, { ...ctx, running: current })).toMatchObject({
      code: 'stale',
      reason: `revision ${current - 1} is not above this box's revision ${current}`,
    });
    expect(verifyDocument(stale, { ...ctx, running: current - 7 })).toMatchObject({
      code: 'stale',
      reason: `revision ${current - 1} is not above ${current}, the highest revision this box has tried (it runs ${current - 7})`,
    });
  });
});
