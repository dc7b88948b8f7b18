import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { mismatch, sha256File } from './hash.js';
import type { ManifestEntry } from './manifest.js';
import { ProgressBar } from './progress.js';

export interface FetchOptions {
  /** Where models live; the file lands at <dir>/<entry.file>. */
  dir: string;
  /** A local directory or http(s) base URL holding the same files (air-gapped sites); else the entry's url. */
  mirror?: string | undefined;
  /** Progress bar target (default stderr); null for none. */
  progress?: NodeJS.WriteStream | null;
}

export interface FetchResult {
  path: string;
  /** Where the bytes came from, or `present` when a verified copy was already there. */
  from: string;
  bytes: number;
}

/**
 * Fetches one manifest model into `dir`: streamed into a staging file beside the target while hashing,
 * checked against the manifest's size and sha256, then renamed into place. A short or altered download is
 * deleted and refused, so a model path never holds unverified bytes.
 */
export async function fetchModel(entry: ManifestEntry, opts: FetchOptions): Promise<FetchResult> {
  const target = path.join(opts.dir, entry.file);
  if (existsSync(target)) {
    const why = mismatch(await sha256File(target), entry);
    if (!why) return { path: target, from: 'present', bytes: statSync(target).size };
    throw new Error(
      `${target} exists but does not match the manifest: ${why}; delete it to fetch again (not overwritten)`,
    );
  }
  mkdirSync(opts.dir, { recursive: true });
  const from = sourceOf(entry, opts.mirror);
  const staging = path.join(opts.dir, `.${entry.file}.${process.pid}.partial`);
  try {
    const { stream, total } = await openSource(from);
    const bar =
      opts.progress === null
        ? undefined
        : new ProgressBar(`${entry.id}`, total ?? entry.bytes, opts.progress ?? process.stderr);
    const hash = createHash('sha256');
    const file = await open(staging, 'w');
    let bytes = 0;
    try {
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          bytes += chunk.length;
          await file.write(chunk);
          bar?.update(bytes);
        }
      } catch (err) {
        const of = total ?? entry.bytes;
        throw new Error(
          `${from}: the transfer broke after ${bytes}${of ? ` of ${of}` : ''} bytes (truncated: ${(err as Error).message})`,
        );
      }
      await file.sync();
    } finally {
      await file.close();
      bar?.end();
    }
    if (total !== undefined && bytes !== total)
      throw new Error(`${from}: the transfer ended after ${bytes} of ${total} bytes (truncated)`);
    const why = mismatch({ sha256: hash.digest('hex'), bytes }, entry);
    if (why) throw new Error(`${from}: ${why}`);
    await rename(staging, target);
    return { path: target, from, bytes };
  } catch (err) {
    rmSync(staging, { force: true });
    throw new Error(`model "${entry.id}" refused, nothing installed: ${(err as Error).message}`);
  }
}

/** The entry's file in a mirror (directory or base URL), else its upstream URL. */
export function sourceOf(entry: ManifestEntry, mirror: string | undefined): string {
  if (!mirror) return entry.url;
  if (/^https?:\/\//.test(mirror)) return `${mirror.replace(/\/+$/, '')}/${entry.file}`;
  return path.resolve(mirror, entry.file);
}

async function openSource(from: string): Promise<{ stream: Readable; total: number | undefined }> {
  if (!/^https?:\/\//.test(from)) {
    if (!existsSync(from)) throw new Error(`not in the mirror: ${from}`);
    return { stream: createReadStream(from), total: statSync(from).size };
  }
  let res: Response;
  try {
    res = await fetch(from, { redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `cannot reach ${from}: ${cause?.code ?? cause?.message ?? (err as Error).message} (offline? use --mirror DIR or VIGIL_MODEL_MIRROR)`,
    );
  }
  if (!res.ok || !res.body) throw new Error(`${from}: HTTP ${res.status} ${res.statusText}`);
  const length = res.headers.get('content-length');
  return {
    stream: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    total: length ? Number(length) : undefined,
  };
}
