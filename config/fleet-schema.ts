import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo: the raw 32-byte key follows it (RFC 8410). */
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * An Ed25519 public key from its text form: PEM (`-----BEGIN PUBLIC KEY-----`), or base64 of either the
 * raw 32-byte key or its 44-byte DER SubjectPublicKeyInfo. Throws with a reason on anything else.
 */
export function fleetPublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  if (trimmed.startsWith('-----BEGIN')) {
    key = createPublicKey({ key: trimmed, format: 'pem' });
  } else {
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw new Error('not PEM and not base64');
    const der = Buffer.from(trimmed, 'base64');
    if (der.length === 32)
      key = createPublicKey({ key: Buffer.concat([spkiPrefix, der]), format: 'der', type: 'spki' });
    else if (der.length === 44) key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    else
      throw new Error(
        `base64 of ${der.length} bytes: expected a 32-byte Ed25519 key or its 44-byte DER form`,
      );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`a ${key.asymmetricKeyType} key, expected Ed25519`);
  return key;
}

/** A key's id: the first 8 bytes (hex) of the sha256 of its raw 32 bytes. Names the signer in a document. */
export function fleetKeyId(key: KeyObject): string {
  const raw = key.export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length);
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

const FleetKeyText = z.string().superRefine((value, ctx) => {
  try {
    fleetPublicKey(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not an Ed25519 public key: ${(err as Error).message}` });
  }
});

export const FleetGroupName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'group names use letters, digits, _ and -');

/** `fleet:` in a box's own config: who may change this box's config over MQTT, and how carefully (docs/fleet.md). */
export const FleetConfig = z.strictObject({
  keys: z
    .array(FleetKeyText)
    .min(1)
    .describe(
      'Fleet public keys this box trusts (Ed25519: base64 of the raw 32 bytes or DER, or PEM; vigil fleet keygen). A document signed by any of them is accepted.',
    ),
  groups: z
    .array(FleetGroupName)
    .default([])
    .describe(
      'Groups this box belongs to: it follows <baseTopic>/fleet/<group>/config for each. Default: none.',
    ),
  maxDocumentBytes: z
    .number()
    .int()
    .min(1024)
    .max(250_000)
    .default(64 * 1024)
    .describe(
      'Documents larger than this are refused unread (the MQTT link takes packets up to 256 KiB at most). Default: 65536.',
    ),
  healthDeadlineS: z
    .number()
    .positive()
    .max(600)
    .default(30)
    .describe(
      'After an apply, every camera it started (added or changed) must deliver an inference within this many seconds, or the box rolls back. Default: 30.',
    ),
  revision: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe(
      'The revision of this file as a fleet config: a persisted pushed config wins at start only when newer. Default: 0.',
    ),
});
export type FleetConfig = z.infer<typeof FleetConfig>;
