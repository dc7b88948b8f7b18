import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  fsyncSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../config/logger.js';
import type { ModelConfig } from '../../config/schema.js';
import { fsyncDir } from './atomic-file.js';
import type { FleetModelConfig } from './fleet-document.js';
import { sourceOf } from '../../models/store/fetch.js';
import { sha256File } from '../../models/store/hash.js';
import { loadManifest, manifestEntry } from '../../models/store/manifest.js';

export interface FetchOptions {
  log: Logger;
  /** Per download (default 10 min). */
  timeoutMs?: number;
  /** A model larger than this is refused (default 2 GiB). */
  maxBytes?: number;
}

/** Where fleet-downloaded models live: `<dataDir>/models/<sha256>.onnx`, content-addressed. */
export function modelsDir(dataDir: string): string {
  return path.join(dataDir, 'models');
}

/**
 * Turns a document's models into runnable ones: `url` + `sha256` models are downloaded into a staging
 * area, verified, and only then moved to their final name (a file already there is verified and reused).
 * Any failure throws with the model's id and the cause; nothing half-downloaded is ever under its final name.
 */
export async function resolveModels(
  models: Record<string, FleetModelConfig>,
  dataDir: string,
  opts: FetchOptions,
): Promise<Record<string, ModelConfig>> {
  const out: Record<string, ModelConfig> = {};
  for (const [id, m] of Object.entries(models)) {
    const { url, sha256, path: file, manifest, ...rest } = m;
    if (file) {
      out[id] = { ...rest, path: file };
      continue;
    }
    try {
      // A manifest id names a url and sha256 (fetched from VIGIL_MODEL_MIRROR when set, as `vigil models`).
      const entry = manifest ? manifestEntry(loadManifest(), manifest) : undefined;
      const source = entry ? sourceOf(entry, process.env.VIGIL_MODEL_MIRROR) : url!;
      out[id] = { ...rest, path: await fetchVerified(source, entry?.sha256 ?? sha256!, dataDir, opts) };
    } catch (err) {
      throw new Error(`model "${id}": ${(err as Error).message}`);
    }
  }
  return out;
}

async function fetchVerified(
  url: string,
  sha256: string,
  dataDir: string,
  opts: FetchOptions,
): Promise<string> {
  const dir = modelsDir(dataDir);
  const final = path.join(dir, `${sha256}.onnx`);
  if (existsSync(final)) {
    if ((await sha256File(final)).sha256 === sha256) return final;
    opts.log.warn('cached model does not match its sha256, downloading it again', { file: final });
    rmSync(final, { force: true });
  }
  const staging = path.join(dir, 'staging');
  mkdirSync(staging, { recursive: true });
  const part = path.join(staging, `${sha256}.part-${process.pid}`);
  const maxBytes = opts.maxBytes ?? 2 * 1024 ** 3;
  const t0 = Date.now();
  const body = await openSource(url, opts.timeoutMs ?? 600_000);
  const hash = createHash('sha256');
  const fd = openSync(part, 'w', 0o644);
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += chunk.length;
      if (bytes > maxBytes) throw new Error(`download larger than ${maxBytes} bytes`);
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(part, { force: true });
    if (err instanceof Error && err.name === 'TimeoutError') throw new Error('download timed out');
    // A connection cut mid-body surfaces as undici's bare "terminated": say what happened, and where.
    if (err instanceof TypeError && err.message === 'terminated')
      throw new Error(
        `download failed after ${bytes} bytes: ${(err.cause as Error | undefined)?.message ?? err.message}`,
      );
    throw err;
  }
  closeSync(fd);
  const got = hash.digest('hex');
  if (got !== sha256) {
    rmSync(part, { force: true });
    throw new Error(`sha256 mismatch: expected ${sha256}, downloaded ${got} (${bytes} bytes)`);
  }
  renameSync(part, final);
  fsyncDir(dir);
  opts.log.info('model downloaded and verified', { file: final, bytes, ms: Date.now() - t0 });
  return final;
}

/** The bytes of a model: an http(s) download, or a file (a local mirror directory). */
async function openSource(source: string, timeoutMs: number): Promise<AsyncIterable<Uint8Array>> {
  if (!/^https?:\/\//.test(source)) {
    if (!existsSync(source)) throw new Error(`not in the mirror: ${source}`);
    return createReadStream(source);
  }
  const res = await fetch(source, { signal: AbortSignal.timeout(timeoutMs) }).catch((err: Error) => {
    throw new Error(`download failed: ${(err.cause as Error | undefined)?.message ?? err.message}`);
  });
  if (!res.ok || !res.body) throw new Error(`download failed: HTTP ${res.status}`);
  return res.body as AsyncIterable<Uint8Array>;
}

/**
 * Removes downloaded models no config in `keep` uses, and staging leftovers. Called only once the new
 * config has run healthy and is persisted: until then the old file stays for a rollback.
 */
export function removeUnusedModels(dataDir: string, keep: Iterable<string>): string[] {
  const dir = modelsDir(dataDir);
  if (!existsSync(dir)) return [];
  const kept = new Set([...keep].map((p) => path.resolve(p)));
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    // Resolved like `kept`: a relative dataDir (the default ./data) must not read as "no config uses it".
    const file = path.resolve(dir, name);
    if (/^[0-9a-f]{64}\.onnx$/.test(name) && !kept.has(file)) {
      rmSync(file, { force: true });
      removed.push(file);
    }
  }
  rmSync(path.join(dir, 'staging'), { recursive: true, force: true });
  return removed;
}
