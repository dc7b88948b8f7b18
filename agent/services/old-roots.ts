import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../config/logger.js';
import type { VigilConfig } from '../../config/schema.js';
import { writeFileAtomic } from '../fleet/atomic-file.js';
import { discoveryNode } from './ha-discovery.js';

/** Where this box published retained messages: its topic root, and its Home Assistant discovery node. */
export const PublishedRoot = z.strictObject({
  /** `<base>/<site>/<device>` */
  root: z.string().min(1),
  /** Null while Home Assistant discovery was off. */
  ha: z.strictObject({ prefix: z.string().min(1), node: z.string().min(1) }).nullable(),
});
export type PublishedRoot = z.infer<typeof PublishedRoot>;

/** `<dataDir>/published-roots.json` */
export const PublishedRootsFile = z.strictObject({
  /** The box's id in its `status` payloads. */
  box: z.string().min(1),
  roots: z.array(PublishedRoot),
});
type PublishedRootsFile = z.infer<typeof PublishedRootsFile>;

export const sameRoot = (a: PublishedRoot, b: PublishedRoot) =>
  a.root === b.root && a.ha?.prefix === b.ha?.prefix && a.ha?.node === b.ha?.node;

/**
 * The roots this box has published retained messages under, kept in its data dir (small JSON, replaced
 * atomically) so that a restart under another root (site, device, base topic or Home Assistant prefix
 * edited) knows the old ones and can clear what it left there (old-roots-service.ts). The current root is
 * written before the link connects: a crash right after the first publish still leaves it known.
 */
export class OldRoots {
  static readonly fileName = 'published-roots.json';

  private constructor(
    private readonly file: string,
    private state: PublishedRootsFile,
    readonly current: PublishedRoot,
  ) {}

  /** Those of the box a config makes, publishing under `root`. */
  static openFor(config: VigilConfig, root: string, log: Logger): OldRoots {
    const ha = config.mqtt?.homeAssistant;
    const current = { root, ha: ha?.enabled ? { prefix: ha.prefix, node: discoveryNode(config) } : null };
    return OldRoots.open(config.dataDir, current, log);
  }

  static open(dataDir: string, current: PublishedRoot, log: Logger): OldRoots {
    mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, OldRoots.fileName);
    let state: PublishedRootsFile | undefined;
    try {
      state = PublishedRootsFile.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      // Missing on a first start; unreadable: the old roots are lost (their retained topics stay).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        log.warn('published roots unreadable, starting anew', { file, reason: (err as Error).message });
    }
    state ??= { box: randomUUID(), roots: [] };
    const roots = new OldRoots(file, state, current);
    if (!state.roots.some((r) => sameRoot(r, current))) roots.save([...state.roots, current]);
    return roots;
  }

  get box(): string {
    return this.state.box;
  }

  /** The roots other than the current one, oldest first. */
  old(): PublishedRoot[] {
    return this.state.roots.filter((r) => !sameRoot(r, this.current));
  }

  /** Nothing of this box is left under `root` (or another box uses it now): it is no longer looked at. */
  forget(root: PublishedRoot): void {
    this.save(this.state.roots.filter((r) => !sameRoot(r, root)));
  }

  private save(roots: PublishedRoot[]): void {
    const next = { box: this.state.box, roots };
    writeFileAtomic(this.file, JSON.stringify(next, null, 2) + '\n');
    this.state = next;
  }
}
