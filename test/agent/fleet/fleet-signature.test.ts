import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fleetKeyId } from '../../../config/fleet-schema.js';
import { FleetDocument, type FleetBodyInput } from '../../../agent/fleet/fleet-document.js';
import {
  documentDigest,
  fleetPrivateKey,
  generateFleetKey,
  keyRing,
  publicKeyOf,
  signDocument,
  signedBytes,
  verifySignature,
} from '../../../agent/fleet/fleet-signature.js';

// Signing and verifying fleet documents (docs/fleet.md "Keys", "The document") with real Ed25519 keys
// through node:crypto. The signed bytes are checked against text written out by hand here, not against
// the module's own canonicalisation.

const body: FleetBodyInput = {
  models: { det: { path: '/opt/det.onnx', confidence: 0.5 } },
  cameras: [{ id: 'dock', source: 'rtsp://10.0.0.1/s', model: 'det', fps: 5 }],
};
const issuedAt = '2026-03-04T05:06:07.000Z';

describe('signedBytes and documentDigest', () => {
  it('the canonical JSON of the four signed fields: keys sorted, no whitespace, the rest left out', () => {
    const doc = {
      signature: 'x',
      keyId: 'y',
      target: 'site:yard',
      issuedAt: '2026-01-01T00:00:00Z',
      revision: 12,
      config: { z: [1, 2.5, 'é', null, true], a: { b: -0, a: 1e21 } },
      extra: 'not signed',
    };
    expect(signedBytes(doc).toString('utf8')).toBe(
      '{"config":{"a":{"a":1e+21,"b":0},"z":[1,2.5,"é",null,true]},"issuedAt":"2026-01-01T00:00:00Z",' +
        '"revision":12,"target":"site:yard"}',
    );
    // UTF-8 on the wire: é is two bytes.
    expect(signedBytes({ target: 'é' }).length).toBe('{"target":"é"}'.length + 1);
  });

  it('does not depend on key order or whitespace; does depend on every signed value', () => {
    const a = { revision: 3, target: 'group:g', config: { x: 1, y: [1, 2] }, issuedAt };
    const b = JSON.parse(
      JSON.stringify({ issuedAt, config: { y: [1, 2], x: 1 }, target: 'group:g', revision: 3 }, null, 3),
    ) as Record<string, unknown>;
    expect(documentDigest(b)).toBe(documentDigest(a));
    expect(documentDigest({ ...a, keyId: 'k', signature: 's' })).toBe(documentDigest(a));
    const digests = new Set([
      documentDigest(a),
      documentDigest({ ...a, revision: 4 }),
      documentDigest({ ...a, target: 'group:h' }),
      documentDigest({ ...a, config: { x: 1, y: [2, 1] } }),
      documentDigest({ ...a, issuedAt: '2026-03-04T05:06:08.000Z' }),
    ]);
    expect(digests.size).toBe(5);
  });

  it('the digest is the sha256 (hex) of the signed bytes', () => {
    const d = { revision: 3, target: 'group:g', config: {}, issuedAt };
    const want = createHash('sha256')
      .update('{"config":{},"issuedAt":"2026-03-04T05:06:07.000Z","revision":3,"target":"group:g"}')
      .digest('hex');
    expect(documentDigest(d)).toBe(want);
  });
});

describe('keyRing', () => {
  const { publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  const raw = der.subarray(der.length - 32);
  const id = createHash('sha256').update(raw).digest('hex').slice(0, 16);

  it('takes a key as base64 of its raw 32 bytes, of its DER form, or as PEM, named by its documented id', () => {
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    for (const text of [raw.toString('base64'), der.toString('base64'), pem, `  ${pem}\n`]) {
      const ring = keyRing([text]);
      expect([...ring.keys()]).toEqual([id]);
      expect(ring.get(id)!.equals(publicKey)).toBe(true);
    }
  });

  it('holds every trusted key (a rotation), one entry per key', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    const ring = keyRing([raw.toString('base64'), other.export({ format: 'pem', type: 'spki' }).toString()]);
    expect(ring.size).toBe(2);
    expect(ring.has(id)).toBe(true);
    expect(ring.has(fleetKeyId(other))).toBe(true);
    expect(keyRing([raw.toString('base64'), der.toString('base64')]).size).toBe(1);
    expect(keyRing([]).size).toBe(0);
  });

  it('refuses what is not an Ed25519 public key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => keyRing([rsa.export({ format: 'pem', type: 'spki' }).toString()])).toThrow(
      /expected Ed25519/,
    );
    expect(() => keyRing([Buffer.alloc(31).toString('base64')])).toThrow(/31 bytes/);
    expect(() => keyRing(['not a key!'])).toThrow(/not PEM and not base64/);
  });
});

describe('signDocument and verifySignature', () => {
  const key = generateFleetKey();
  const priv = fleetPrivateKey(key.privatePem);
  const pub = keyRing([key.publicBase64]).get(key.keyId)!;

  it('signs the canonical signed fields with Ed25519, verifiable by plain node:crypto', () => {
    const doc = signDocument({ revision: 5, target: 'device:yard/box1', config: body, issuedAt }, priv);
    expect(Object.keys(doc).sort()).toEqual([
      'config',
      'issuedAt',
      'keyId',
      'revision',
      'signature',
      'target',
    ]);
    expect(doc).toMatchObject({ revision: 5, target: 'device:yard/box1', issuedAt, keyId: key.keyId });
    // The bytes, written out independently (keys sorted at every level).
    const text =
      '{"config":{"cameras":[{"fps":5,"id":"dock","model":"det","source":"rtsp://10.0.0.1/s"}],' +
      '"models":{"det":{"confidence":0.5,"path":"/opt/det.onnx"}}},"issuedAt":"2026-03-04T05:06:07.000Z",' +
      '"revision":5,"target":"device:yard/box1"}';
    const sig = Buffer.from(doc.signature as string, 'base64');
    expect(sig.length).toBe(64);
    expect(verify(null, Buffer.from(text), createPublicKey(key.publicPem), sig)).toBe(true);
    expect(verifySignature(doc, pub, doc.signature as string)).toBe(true);
    // The result is a valid document as the box parses it.
    expect(FleetDocument.safeParse(JSON.parse(JSON.stringify(doc))).success).toBe(true);
  });

  it('the config is signed as written: no defaults filled in, a copy of the input', () => {
    const input = structuredClone(body);
    const doc = signDocument({ revision: 5, target: 'group:g', config: input, issuedAt }, priv);
    expect(doc.config).toEqual(body);
    expect(doc.config).not.toBe(input);
    (input.cameras[0] as { fps?: number }).fps = 6;
    expect(verifySignature(doc, pub, doc.signature as string)).toBe(true);
  });

  it('issuedAt defaults to the time of signing', () => {
    const before = Date.now();
    const doc = signDocument({ revision: 5, target: 'group:g', config: body }, priv);
    const at = Date.parse(doc.issuedAt as string);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('any change to a signed field, another key, or a damaged signature fails verification', () => {
    const doc = signDocument({ revision: 5, target: 'group:g', config: body, issuedAt }, priv);
    const sig = doc.signature as string;
    const clone = () => structuredClone(doc) as Record<string, unknown> & { config: typeof body };
    const changed = [
      { ...clone(), revision: 6 },
      { ...clone(), target: 'group:h' },
      { ...clone(), issuedAt: '2026-03-04T05:06:07.001Z' },
      (() => {
        const c = clone();
        (c.config.cameras[0] as { fps?: number }).fps = 50;
        return c;
      })(),
      (() => {
        const c = clone();
        (c.config as Record<string, unknown>).logLevel = 'debug';
        return c;
      })(),
    ];
    for (const c of changed) expect(verifySignature(c, pub, sig)).toBe(false);
    // keyId and signature are not signed: changing keyId alone does not touch the bytes.
    expect(verifySignature({ ...clone(), keyId: 'ffffffffffffffff' }, pub, sig)).toBe(true);
    const other = generateFleetKey();
    expect(verifySignature(doc, keyRing([other.publicBase64]).get(other.keyId)!, sig)).toBe(false);
    const bad = Buffer.from(sig, 'base64');
    bad[10]! ^= 0x01;
    expect(verifySignature(doc, pub, bad.toString('base64'))).toBe(false);
  });

  it('never signs a bad body: the refusal names every problem', () => {
    expect(() =>
      signDocument(
        {
          revision: 5,
          target: 'group:g',
          config: {
            models: {},
            cameras: [{ id: 'dock', source: '/dev/video0', model: 'det' }],
            site: 'x',
          } as never,
          issuedAt,
        },
        priv,
      ),
    ).toThrow(
      'config: (root): Unrecognized key: "site"; cameras.0.model: unknown model "det" (defined: none)',
    );
    expect(() =>
      signDocument({ revision: 5, target: 'group:g', config: { ...body, cameras: [] }, issuedAt }, priv),
    ).toThrow(/^config: cameras: /);
  });
});

describe('keys', () => {
  it('generateFleetKey: a PKCS#8 PEM private key, the raw 32-byte public key in base64, its id', () => {
    const k = generateFleetKey();
    expect(k.privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(k.publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const raw = Buffer.from(k.publicBase64, 'base64');
    expect(raw.length).toBe(32);
    expect(k.keyId).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
    const priv = createPrivateKey(k.privatePem);
    expect(priv.asymmetricKeyType).toBe('ed25519');
    // The three forms are one key pair.
    expect(createPublicKey(priv).equals(createPublicKey(k.publicPem))).toBe(true);
    expect(keyRing([k.publicBase64]).get(k.keyId)!.equals(createPublicKey(k.publicPem))).toBe(true);
    expect(generateFleetKey().keyId).not.toBe(k.keyId);
  });

  it('fleetPrivateKey reads an Ed25519 PEM and refuses other keys', () => {
    const k = generateFleetKey();
    expect(fleetPrivateKey(k.privatePem).asymmetricKeyType).toBe('ed25519');
    expect(fleetPrivateKey(Buffer.from(k.privatePem)).asymmetricKeyType).toBe('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(() => fleetPrivateKey(ec.export({ format: 'pem', type: 'pkcs8' }))).toThrow(
      'a ec key, expected Ed25519',
    );
    expect(() => fleetPrivateKey('nope')).toThrow();
  });

  it('publicKeyOf derives the public half, and refuses a non-Ed25519 key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    expect(publicKeyOf(privateKey).equals(publicKey)).toBe(true);
    const ed448 = generateKeyPairSync('ed448').privateKey;
    expect(() => publicKeyOf(ed448)).toThrow('a ed448 key, expected Ed25519');
    // and so signDocument refuses to sign with one
    expect(() => signDocument({ revision: 1, target: 'group:g', config: body }, ed448)).toThrow(
      /expected Ed25519/,
    );
  });
});
