import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { substituteEnvRefs } from '../../config/env-refs.js';
import { fleetKeyId, fleetPublicKey } from '../../config/fleet-schema.js';
import { canonicalJson } from './canonical-json.js';
import { FleetBody, signedFields, type FleetBodyInput, type FleetTarget } from './fleet-document.js';

/** The exact bytes an Ed25519 fleet signature covers: UTF-8 canonical JSON of the signed fields. */
export function signedBytes(doc: Record<string, unknown>): Buffer {
  const part: Record<string, unknown> = {};
  for (const k of signedFields) part[k] = doc[k];
  return Buffer.from(canonicalJson(part), 'utf8');
}

/** sha256 (hex) of the signed bytes: names one document whatever its whitespace on the wire. */
export function documentDigest(doc: Record<string, unknown>): string {
  return createHash('sha256').update(signedBytes(doc)).digest('hex');
}

/** Trusted keys by id (the box's `fleet.keys`). */
export function keyRing(keys: readonly string[]): Map<string, KeyObject> {
  const ring = new Map<string, KeyObject>();
  for (const text of keys) {
    const key = fleetPublicKey(text);
    ring.set(fleetKeyId(key), key);
  }
  return ring;
}

export function verifySignature(doc: Record<string, unknown>, key: KeyObject, signature: string): boolean {
  // Ed25519 takes no digest name: the algorithm is fixed by the key (RFC 8032, pure mode).
  return verify(null, signedBytes(doc), key, Buffer.from(signature, 'base64'));
}

export interface SignInput {
  revision: number;
  target: FleetTarget;
  config: FleetBodyInput;
  /** Default: now. */
  issuedAt?: string;
}

/**
 * A signed document, ready to publish. The body is checked against the schema first: never sign a bad one.
 * Its `${VAR}` references are the boxes' to expand (verify-document.ts): they are signed as written, and
 * checked here with their default, or a 16-letter stand-in for the value only a box knows.
 */
export function signDocument(input: SignInput, privateKey: KeyObject): Record<string, unknown> {
  const checked = FleetBody.safeParse(substituteEnvRefs(input.config, 'x'.repeat(16)));
  if (!checked.success) {
    throw new Error(
      `config: ${checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  // The config is signed as written (defaults are not filled in), so the box sees what the operator wrote.
  const doc: Record<string, unknown> = {
    revision: input.revision,
    target: input.target,
    config: JSON.parse(JSON.stringify(input.config)) as unknown,
    issuedAt: input.issuedAt ?? new Date().toISOString(),
  };
  doc.keyId = fleetKeyId(publicKeyOf(privateKey));
  doc.signature = sign(null, signedBytes(doc), privateKey).toString('base64');
  return doc;
}

/** The public half of a fleet signing key (Node derives it from the private KeyObject). */
export function publicKeyOf(privateKey: KeyObject): KeyObject {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`a ${privateKey.asymmetricKeyType ?? 'symmetric'} key, expected Ed25519`);
  }
  return createPublicKey(privateKey);
}

/** Reads a PEM (PKCS#8) Ed25519 private key. */
export function fleetPrivateKey(pem: string | Buffer): KeyObject {
  const key = createPrivateKey({ key: pem, format: 'pem' });
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`a ${key.asymmetricKeyType} key, expected Ed25519`);
  return key;
}

/** A new fleet key pair: the private key as PKCS#8 PEM, the public key as base64 of its raw 32 bytes. */
export function generateFleetKey(): {
  privatePem: string;
  publicBase64: string;
  publicPem: string;
  keyId: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicBase64: der.subarray(der.length - 32).toString('base64'),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyId: fleetKeyId(publicKey),
  };
}
