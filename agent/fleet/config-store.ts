import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../config/logger.js';
import type { VigilConfig } from '../../config/schema.js';
import { writeFileAtomic } from './atomic-file.js';
import { composeConfig, type ManagedConfig } from './managed-config.js';

/** `<dataDir>/config/current.json`: the last-known-good fleet config (written only after it ran healthy). */
export const StoredConfig = z.strictObject({
  format: z.literal(1),
  revision: z.number().int().min(1),
  /** documentDigest() of the document it came from. */
  digest: z.string(),
  target: z.string(),
  appliedAt: z.number().int().nonnegative(),
  /** The managed sections as running (validated by composing them over the box's own config). */
  managed: z.custom<ManagedConfig>(
    (v) => !!v && typeof v === 'object' && 'models' in v && 'cameras' in v,
    'expected models and cameras',
  ),
  /** The signed document as received, for audit. */
  document: z.record(z.string(), z.unknown()),
});
export type StoredConfig = z.infer<typeof StoredConfig>;

/** `<dataDir>/config/attempt.json`: the latest document this box started to apply, and how that ended. */
export const AttemptRecord = z.strictObject({
  revision: z.number().int().min(1),
  digest: z.string(),
  /** How many times it was started: an apply cut short by a crash is tried once more at the next start. */
  tries: z.number().int().min(1),
  outcome: z.enum(['applying', 'applied', 'rolled_back']),
  at: z.number().int().nonnegative(),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

/**
 * The fleet's files in `<dataDir>/config/`. Every write is atomic (atomic-file.ts), and current.json holds
 * its own revision, so a power cut leaves the old or the new config whole. `revision` is a plain-text copy
 * for people and scripts, written after current.json; when the two disagree, current.json is right.
 */
export class ConfigStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'config');
  }

  get currentFile(): string {
    return path.join(this.dir, 'current.json');
  }

  /** The last-known-good config, or undefined when there is none; throws when the file is unreadable. */
  load(): StoredConfig | undefined {
    if (!existsSync(this.currentFile)) return undefined;
    const text = readFileSync(this.currentFile, 'utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      // Truncated or zeroed (a disk that lost what fsync promised): say which file, not just "Unexpected end".
      throw new Error(
        `${this.currentFile}: not valid JSON (${Buffer.byteLength(text)} bytes): ${(err as Error).message}`,
      );
    }
    const parsed = StoredConfig.safeParse(value);
    if (!parsed.success)
      throw new Error(`${this.currentFile}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  save(record: StoredConfig): void {
    this.prepare();
    writeFileAtomic(this.currentFile, JSON.stringify(record, null, 2) + '\n');
    // current.json is the commit point: once it is written the config is persisted, so the copy failing
    // must not make the caller roll back a config the next start would run. A stale copy is removed.
    const copy = path.join(this.dir, 'revision');
    try {
      writeFileAtomic(copy, `${record.revision}\n`);
    } catch {
      try {
        rmSync(copy, { force: true });
      } catch {
        // nothing more to do: current.json is right when the two disagree
      }
    }
  }

  loadAttempt(): AttemptRecord | undefined {
    const file = path.join(this.dir, 'attempt.json');
    if (!existsSync(file)) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return undefined; // damaged: read as none, like an invalid record (else no document is ever handled)
    }
    const parsed = AttemptRecord.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  }

  saveAttempt(attempt: AttemptRecord): void {
    this.prepare();
    writeFileAtomic(path.join(this.dir, 'attempt.json'), JSON.stringify(attempt) + '\n');
  }

  /** Creates the directory and removes temporary files a crash left behind. */
  private prepare(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      if (/\.tmp-\d+$/.test(name)) rmSync(path.join(this.dir, name), { force: true });
    }
  }
}

export interface StartConfig {
  config: VigilConfig;
  /** Where the running config came from. */
  source: 'file' | 'fleet';
  revision: number;
  stored?: StoredConfig;
}

/**
 * The config to start with: the persisted last-known-good fleet config when its revision is above the
 * file's `fleet.revision` (the file is the bootstrap), else the file. A persisted config that cannot be
 * used (unreadable, invalid over this file, a model file gone) is logged and the file wins.
 */
export function startConfig(fileCfg: VigilConfig, log?: Logger): StartConfig {
  const fromFile: StartConfig = { config: fileCfg, source: 'file', revision: fileCfg.fleet?.revision ?? 0 };
  if (!fileCfg.fleet) return fromFile;
  try {
    const stored = new ConfigStore(fileCfg.dataDir).load();
    if (!stored || stored.revision <= fromFile.revision) return fromFile;
    const config = composeConfig(fileCfg, stored.managed);
    // The running config's revision is the document's: the fleet service reads it from here.
    config.fleet = { ...config.fleet!, revision: stored.revision };
    const missing = Object.entries(config.models).filter(([, m]) => !existsSync(m.path));
    if (missing.length)
      throw new Error(`model file(s) missing: ${missing.map(([id, m]) => `${id} (${m.path})`).join(', ')}`);
    return { config, source: 'fleet', revision: stored.revision, stored };
  } catch (err) {
    log?.error('persisted fleet config not usable, starting from the config file', {
      reason: err instanceof Error ? err.message : String(err),
    });
    return fromFile;
  }
}

/** The one call run-agent makes: the config the agent should start with. */
export function preferPersisted(fileCfg: VigilConfig, log?: Logger): VigilConfig {
  const start = startConfig(fileCfg, log);
  if (start.source === 'fleet') log?.info('using the persisted fleet config', { revision: start.revision });
  return start.config;
}
