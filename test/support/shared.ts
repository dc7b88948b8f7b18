import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** ../shared beside the checkout (models, media, data), or VIGIL_SHARED. Never copied into the repo. */
export const sharedRoot = process.env.VIGIL_SHARED ?? path.resolve(repoRoot, '..', 'shared');

export function sharedPath(...parts: string[]): string {
  return path.join(sharedRoot, ...parts);
}

export const hasShared = existsSync(sharedPath('models'));
export { repoRoot };
