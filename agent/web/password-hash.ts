import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * `scrypt:N:r:p:<salt base64>:<key base64>`, the form `http.auth.passwordHash` takes. Make one with
 * `vigil hash-password` (agent/cli/commands/hash-password.ts).
 */

const scryptAsync = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** Generous enough for N = 2^17, r = 8 (128 MiB); a hash asking for more is refused, not computed. */
const maxmem = 160 * 1024 * 1024;

export async function hashPassword(password: string, { N = 16384, r = 8, p = 1 } = {}): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, { N, r, p, maxmem });
  return `scrypt:${N}:${r}:${p}:${salt.toString('base64')}:${key.toString('base64')}`;
}

/** Runs in libuv's thread pool (scrypt is deliberately slow: never on the event loop). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = /^scrypt:(\d+):(\d+):(\d+):([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(encoded);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const salt = Buffer.from(m[4]!, 'base64');
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length < 16 || N > 2 ** 17 || r > 32 || p > 16) return false;
  try {
    const key = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem });
    return timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}
