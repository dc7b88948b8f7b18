import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** sha256 of a file, streamed (hex). */
export async function sha256File(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Why a file's hash and size do not match what was expected, or null when they do. */
export function mismatch(
  got: { sha256: string; bytes: number },
  want: { sha256: string; bytes?: number | undefined },
): string | null {
  if (want.bytes !== undefined && got.bytes !== want.bytes)
    return `${got.bytes} bytes, expected ${want.bytes} (${got.bytes < want.bytes ? 'truncated' : 'altered'})`;
  if (got.sha256 !== want.sha256) return `sha256 ${got.sha256}, expected ${want.sha256} (altered or corrupt)`;
  return null;
}
