import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FleetConfig, FleetGroupName, fleetKeyId, fleetPublicKey } from '../../config/fleet-schema.js';

const { publicKey } = generateKeyPairSync('ed25519');
const der = publicKey.export({ format: 'der', type: 'spki' });
const raw = der.subarray(der.length - 32);
const forms = {
  raw: raw.toString('base64'),
  der: der.toString('base64'),
  pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  url: raw.toString('base64url'),
};

function firstIssue(value: unknown): string | undefined {
  const r = FleetConfig.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('fleetPublicKey', () => {
  it.each(Object.entries(forms))('reads the %s form as the same key', (_, text) => {
    expect(fleetPublicKey(text).equals(publicKey)).toBe(true);
    expect(fleetPublicKey(`  ${text}\n`).equals(publicKey)).toBe(true);
  });

  it('refuses what is not an Ed25519 public key, saying why', () => {
    expect(() => fleetPublicKey('not a key!')).toThrow('not PEM and not base64');
    expect(() => fleetPublicKey(Buffer.alloc(31).toString('base64'))).toThrow(
      'base64 of 31 bytes: expected a 32-byte Ed25519 key or its 44-byte DER form',
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(() => fleetPublicKey(ec.export({ format: 'pem', type: 'spki' }).toString())).toThrow(
      'a ec key, expected Ed25519',
    );
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' });
    expect(() => fleetPublicKey(x25519.toString('base64'))).toThrow();
  });
});

describe('fleetKeyId', () => {
  it('is the first 8 bytes (hex) of the sha256 of the raw key, whatever the form', () => {
    const want = createHash('sha256').update(raw).digest('hex').slice(0, 16);
    for (const text of Object.values(forms)) expect(fleetKeyId(fleetPublicKey(text))).toBe(want);
    expect(want).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('FleetConfig (docs/config.md, fleet)', () => {
  it('fills the documented defaults', () => {
    expect(FleetConfig.parse({ keys: [forms.raw] })).toEqual({
      keys: [forms.raw],
      groups: [],
      maxDocumentBytes: 65536,
      healthDeadlineS: 30,
      revision: 0,
    });
  });

  it.each([
    { patch: { keys: [] }, issue: 'keys: Too small: expected array to have >=1 items' },
    {
      patch: { keys: ['abc='] },
      issue:
        'keys.0: not an Ed25519 public key: base64 of 2 bytes: expected a 32-byte Ed25519 key or its 44-byte DER form',
    },
    { patch: { groups: ['north yard'] }, issue: 'groups.0: group names use letters, digits, _ and -' },
    { patch: { maxDocumentBytes: 1023 }, issue: 'maxDocumentBytes: Too small: expected number to be >=1024' },
    {
      patch: { maxDocumentBytes: 250_001 },
      issue: 'maxDocumentBytes: Too big: expected number to be <=250000',
    },
    { patch: { healthDeadlineS: 601 }, issue: 'healthDeadlineS: Too big: expected number to be <=600' },
    { patch: { healthDeadlineS: 0 }, issue: 'healthDeadlineS: Too small: expected number to be >0' },
    { patch: { revision: -1 }, issue: 'revision: Too small: expected number to be >=0' },
    { patch: { revision: 1.5 }, issue: 'revision: Invalid input: expected int, received number' },
    { patch: { topic: 'x' }, issue: ': Unrecognized key: "topic"' },
  ])('$issue', ({ patch, issue }) => {
    expect(firstIssue({ keys: [forms.pem], ...patch })).toBe(issue);
  });

  it('accepts the documented edges', () => {
    const edges = { maxDocumentBytes: 1024, healthDeadlineS: 600, groups: ['a', 'B_2-c'] };
    expect(firstIssue({ keys: [forms.der, forms.pem], ...edges })).toBeUndefined();
    expect(firstIssue({ keys: [forms.raw], maxDocumentBytes: 250_000 })).toBeUndefined();
    expect(FleetGroupName.safeParse('x'.repeat(64)).success).toBe(true);
    expect(FleetGroupName.safeParse('x'.repeat(65)).success).toBe(false);
  });
});
