import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ModelFamily } from '../../config/schema.js';

/** One known model: where it comes from, what it must hash to, and what it is. The project ships no weights. */
export const ManifestEntry = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  family: ModelFamily,
  /** File name on disk (and in a mirror directory). */
  file: z.string().regex(/^[A-Za-z0-9_.-]+\.onnx$/, 'a plain file name ending in .onnx'),
  url: z.url({ protocol: /^https?$/ }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
  /** Exact size: a download that ends short is refused before hashing. */
  bytes: z.number().int().positive().optional(),
  licence: z.string().min(1),
  /** Model input [width, height]. */
  input: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  classes: z.strictObject({ set: z.string().min(1), count: z.number().int().positive() }),
  notes: z.string().optional(),
});
export type ManifestEntry = z.infer<typeof ManifestEntry>;

export const Manifest = z
  .strictObject({ version: z.literal(1), models: z.array(ManifestEntry) })
  .refine((m) => new Set(m.models.map((e) => e.id)).size === m.models.length, 'duplicate model id');
export type Manifest = z.infer<typeof Manifest>;

/** models/manifest.json beside this module. */
export const defaultManifestPath = fileURLToPath(new URL('../manifest.json', import.meta.url));

export function loadManifest(file = defaultManifestPath): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`model manifest ${file}: ${(err as Error).message}`);
  }
  const parsed = Manifest.safeParse(doc);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new Error(`model manifest ${file}: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return parsed.data;
}

export function manifestEntry(manifest: Manifest, id: string): ManifestEntry {
  const entry = manifest.models.find((m) => m.id === id);
  if (!entry)
    throw new Error(
      `unknown model "${id}" (known: ${manifest.models.map((m) => m.id).join(', ') || 'none'})`,
    );
  return entry;
}
