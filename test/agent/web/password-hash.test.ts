import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../../agent/web/password-hash.js';

/** A correct hash made without hashPassword, so parameters it would never choose can be tried. */
function encode(password: string, N: number, r: number, p: number, keylen = 32): string {
  const salt = Buffer.from('0123456789abcdef');
  const key = scryptSync(password, salt, keylen, { N, r, p, maxmem: 256 * 1024 * 1024 });
  return `scrypt:${N}:${r}:${p}:${salt.toString('base64')}:${key.toString('base64')}`;
}

describe('password hashes for http.auth.passwordHash', () => {
  it('makes scrypt:N:r:p:salt:key with a fresh 16-byte salt and a 32-byte key', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    const m = /^scrypt:16384:8:1:([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(a);
    expect(m).not.toBeNull();
    expect(Buffer.from(m![1]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(m![2]!, 'base64')).toHaveLength(32);
    // Salted: the same password never hashes the same twice, yet both verify.
    expect(b).not.toBe(a);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horse', b)).toBe(true);
  });

  it('verifies only the exact password', async () => {
    const hash = await hashPassword('s3cret-µ', { N: 1024, r: 8, p: 1 });
    expect(hash.startsWith('scrypt:1024:8:1:')).toBe(true);
    expect(await verifyPassword('s3cret-µ', hash)).toBe(true);
    for (const wrong of ['s3cret-u', 's3cret-µ ', 'S3CRET-µ', ''])
      expect(await verifyPassword(wrong, hash)).toBe(false);
  });

  it('rejects a hash whose key was altered', async () => {
    const hash = encode('pw', 1024, 8, 1);
    const parts = hash.split(':');
    const key = Buffer.from(parts[5]!, 'base64');
    key[0]! ^= 1;
    parts[5] = key.toString('base64');
    expect(await verifyPassword('pw', hash)).toBe(true);
    expect(await verifyPassword('pw', parts.join(':'))).toBe(false);
  });

  it('uses the key length the hash carries', async () => {
    expect(await verifyPassword('pw', encode('pw', 1024, 8, 1, 48))).toBe(true);
    expect(await verifyPassword('pw', encode('pw', 1024, 8, 1, 16))).toBe(true);
  });

  it('answers false, never throws, for text that is not a hash', async () => {
    const good = encode('pw', 1024, 8, 1);
    const [, , , , salt, key] = good.split(':');
    for (const bad of [
      '',
      'pw',
      good.replace('scrypt:', 'bcrypt:'),
      good.slice(0, good.lastIndexOf(':')),
      `scrypt:x:8:1:${salt}:${key}`,
      `scrypt:1024:8:1:${salt}:${key}!`,
      ` ${good}`,
      `${good}\n`,
    ])
      expect(await verifyPassword('pw', bad)).toBe(false);
    // Parameters scrypt itself refuses (N not a power of two): false, not a rejected promise.
    await expect(verifyPassword('pw', `scrypt:1000:8:1:${salt}:${key}`)).resolves.toBe(false);
  });

  it('refuses, even when correct, a key shorter than 16 bytes', async () => {
    expect(await verifyPassword('pw', encode('pw', 1024, 8, 1, 15))).toBe(false);
  });

  it('refuses parameters above N = 2^17, r = 32, p = 16 even when the hash is correct', async () => {
    // Otherwise a config could make every login cost seconds of CPU and up to maxmem of memory.
    expect(await verifyPassword('pw', encode('pw', 2 ** 18, 2, 1))).toBe(false);
    expect(await verifyPassword('pw', encode('pw', 16, 33, 1))).toBe(false);
    expect(await verifyPassword('pw', encode('pw', 16, 1, 17))).toBe(false);
    // The limits themselves are allowed.
    expect(await verifyPassword('pw', encode('pw', 2 ** 17, 2, 1))).toBe(true);
    expect(await verifyPassword('pw', encode('pw', 16, 32, 1))).toBe(true);
    expect(await verifyPassword('pw', encode('pw', 16, 1, 16))).toBe(true);
  });
});
