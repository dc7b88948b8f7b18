import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { mismatch, sha256File } from './hash.js';
import type { Manifest } from './manifest.js';

export interface VerifyLine {
  id: string;
  file: string;
  status: 'ok' | 'missing' | 'mismatch' | 'unknown';
  detail?: string;
}

/**
 * Checks the models in `dir` against the manifest: each known file hashed and sized; files the manifest
 * does not know are listed as unknown (not an error: a site's own models live there too).
 */
export async function verifyModels(manifest: Manifest, dir: string, ids?: string[]): Promise<VerifyLine[]> {
  const wanted = ids?.length ? manifest.models.filter((m) => ids.includes(m.id)) : manifest.models;
  const lines: VerifyLine[] = [];
  for (const entry of wanted) {
    const file = path.join(dir, entry.file);
    if (!existsSync(file)) {
      lines.push({ id: entry.id, file, status: 'missing' });
      continue;
    }
    const why = mismatch(await sha256File(file), entry);
    lines.push(
      why ? { id: entry.id, file, status: 'mismatch', detail: why } : { id: entry.id, file, status: 'ok' },
    );
  }
  if (!ids?.length && existsSync(dir)) {
    const known = new Set(manifest.models.map((m) => m.file));
    for (const name of readdirSync(dir).sort())
      if (name.endsWith('.onnx') && !known.has(name))
        lines.push({ id: '-', file: path.join(dir, name), status: 'unknown' });
  }
  return lines;
}
