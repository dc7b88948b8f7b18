import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../../config/load.js';
import type { VigilConfig } from '../../../config/schema.js';
import { configRevision, weightsDigest } from '../../../pipeline/drift/config-revision.js';
import {
  ReferenceExport,
  type DriftKey,
  type DriftReference,
} from '../../../pipeline/drift/drift-records.js';
import { ReferenceStore } from '../../../pipeline/drift/reference-store.js';
import { reportConfigError } from './check-config.js';
import type { CliResult } from '../main.js';
import { UsageError } from '../usage-error.js';

interface Common {
  config?: string;
  dataDir?: string;
  camera?: string;
  model?: string;
  revision?: string;
}

/** `vigil drift …`: build, list, export and import drift reference profiles (docs/drift.md). */
export function registerDrift(program: Command, result: CliResult): void {
  const drift = program.command('drift').description('drift reference profiles: build, list, export, import');
  const run = (action: (opts: Common, arg?: string) => void) => (a: unknown, b: unknown) => {
    // commander passes (opts) or (arg, opts)
    const [arg, opts] =
      typeof a === 'string' || a === undefined ? [a, b as Common] : [undefined, a as Common];
    try {
      action(opts, arg);
      result.code = 0;
    } catch (err) {
      result.code = reportConfigError(err);
    }
  };

  common(drift.command('baseline'))
    .description('build the reference of a camera from its stored windows between two times')
    .requiredOption('--camera <id>', 'camera id')
    .requiredOption('--from <time>', 'start: ISO 8601 (2026-03-01T08:00Z) or epoch ms')
    .requiredOption('--to <time>', 'end: ISO 8601 or epoch ms')
    .action(
      run((opts) => {
        const o = opts as Common & { from: string; to: string };
        withStore(o, (store, cfg) => {
          const range = { from: parseTime(o.from, '--from'), to: parseTime(o.to, '--to') };
          if (range.to <= range.from) throw new UsageError('--to must be after --from');
          const key = keyOf(o, cfg) ?? soleKeyIn(store, o.camera!, range);
          const ref = store.buildReference(key, range, 'baseline', Date.now());
          console.log(`reference ${ref.id} built: ${describe(ref)}`);
        });
      }),
    );

  common(drift.command('list'))
    .description('list stored references (newest first)')
    .option('--camera <id>', 'only this camera')
    .action(
      run((opts) =>
        withStore(opts, (store) => {
          const refs = store.listReferences(opts.camera);
          if (!refs.length) console.log('no drift references');
          for (const r of refs) console.log(`${r.id}: ${describe(r)}`);
        }),
      ),
    );

  common(drift.command('export'))
    .description('write the active reference of a camera as JSON (stdout, or --out)')
    .requiredOption('--camera <id>', 'camera id')
    .option('--id <n>', 'a reference id instead of the active one')
    .option('-o, --out <file>', 'write here instead of stdout')
    .action(
      run((opts) => {
        const o = opts as Common & { id?: string; out?: string };
        withStore(o, (store, cfg) => {
          const ref = pickReference(store, o, cfg);
          const text = JSON.stringify(ReferenceStore.toExport(ref)) + '\n';
          if (o.out) {
            writeFileSync(o.out, text);
            console.error(`reference ${ref.id} written to ${o.out}: ${describe(ref)}`);
          } else process.stdout.write(text);
        });
      }),
    );

  common(drift.command('import'))
    .argument('<file>', 'a reference exported by `vigil drift export`')
    .description(
      "store a reference from another box; with --camera it becomes that camera's, for its current model",
    )
    .option('--camera <id>', 'the local camera it is for')
    .action(
      run((opts, file) =>
        withStore(
          opts,
          (store, cfg) => {
            const json = readExport(file!);
            const target = opts.camera ? keyOf(opts, cfg) : undefined;
            if (opts.camera && !target) {
              throw new UsageError(
                '--camera needs a config with that camera (-c), or --model and --revision',
              );
            }
            const ref = store.importReference(json, target ?? {}, Date.now());
            console.log(`reference ${ref.id} imported: ${describe(ref)}`);
          },
          true,
        ),
      ),
    );
}

/** The file as a reference export, or one line that says what is wrong with it (not zod's issue dump). */
function readExport(file: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not a JSON file (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = ReferenceExport.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
  const more = parsed.error.issues.length > 3 ? `, … ${parsed.error.issues.length - 3} more` : '';
  throw new Error(`${file}: not a reference written by \`vigil drift export\` (${issues.join('; ')}${more})`);
}

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config: data dir, and the camera’s current model and revision')
    .option('--data-dir <dir>', 'where drift.db lives (default: the config’s dataDir)')
    .option('--model <id>', 'model id (default: the camera’s model in the config)')
    .option('--revision <rev>', 'config revision (default: the config’s current one)');
}

/**
 * Opens the data dir's drift.db. Only `import` may create it (a reference brought to a box before drift
 * ran there); the others read it, and a mistyped --data-dir must not look like an empty store (and leave one).
 */
function withStore(
  opts: Common,
  use: (store: ReferenceStore, cfg: VigilConfig | undefined) => void,
  create = false,
): void {
  const cfg = opts.config ? loadConfig(opts.config) : undefined;
  const dataDir = opts.dataDir ?? cfg?.dataDir;
  if (!dataDir) throw new UsageError('give -c CONFIG or --data-dir DIR');
  const file = path.join(dataDir, ReferenceStore.fileName);
  if (!create && !existsSync(file))
    throw new Error(
      `no drift database at ${file}: the agent makes it once drift runs (check -c or --data-dir)`,
    );
  const store = ReferenceStore.open(file);
  try {
    use(store, cfg);
  } finally {
    store.close();
  }
}

/** The key of a camera from flags, else from its entry in the config; undefined when neither says. */
function keyOf(opts: Common, cfg: VigilConfig | undefined): DriftKey | undefined {
  const camera = opts.camera!;
  if (opts.model && opts.revision) return { camera, modelId: opts.model, configRevision: opts.revision };
  if (!cfg) return undefined;
  const cam = cfg.cameras.find((c) => c.id === camera);
  if (!cam)
    throw new Error(
      `no camera "${camera}" in the config (cameras: ${cfg.cameras.map((c) => c.id).join(', ')})`,
    );
  const modelId = opts.model ?? cam.model;
  const model = cfg.models[modelId];
  if (!model) throw new Error(`no model "${modelId}" in the config`);
  return {
    camera,
    modelId,
    configRevision: opts.revision ?? configRevision(cam, model, weightsDigest(model.path)),
  };
}

/** Without a config, the windows in the range must all belong to one model and revision. */
function soleKeyIn(store: ReferenceStore, camera: string, range: { from: number; to: number }): DriftKey {
  const keys = new Map<string, DriftKey>();
  for (const w of store.windows({ camera, ...range })) {
    keys.set(`${w.modelId}/${w.configRevision}`, {
      camera,
      modelId: w.modelId,
      configRevision: w.configRevision,
    });
  }
  if (keys.size === 1) return [...keys.values()][0]!;
  if (!keys.size) throw new Error(`no drift windows for camera "${camera}" in that range`);
  throw new Error(
    `windows of several models/revisions in that range (${[...keys.keys()].join(', ')}): give --model and --revision, or -c`,
  );
}

function pickReference(
  store: ReferenceStore,
  opts: Common & { id?: string },
  cfg: VigilConfig | undefined,
): DriftReference {
  if (opts.id !== undefined) {
    const ref = store.reference(Number(opts.id));
    if (!ref) throw new Error(`no reference ${opts.id}`);
    return ref;
  }
  const key = keyOf(opts, cfg);
  const id = key ? store.activeReferenceId(key) : (store.listReferences(opts.camera)[0]?.id ?? null);
  const ref = id === null ? null : store.reference(id);
  if (!ref)
    throw new Error(
      `no reference for camera "${opts.camera}"${key ? ` (model ${key.modelId}, revision ${key.configRevision})` : ''}`,
    );
  return ref;
}

function parseTime(value: string, flag: string): number {
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) throw new UsageError(`${flag}: not a time: ${value} (ISO 8601 or epoch ms)`);
  return t;
}

function describe(r: Omit<DriftReference, 'profile'> & { profile?: DriftReference['profile'] }): string {
  const iso = (t: number) => new Date(t).toISOString();
  const frames = r.profile ? `, ${r.profile.frames} frames` : '';
  return (
    `camera ${r.camera}, model ${r.modelId}, revision ${r.configRevision}, ${r.source}` +
    `${r.origin ? ` from ${r.origin}` : ''}, ${r.windows} windows ${iso(r.from)} – ${iso(r.to)}${frames}`
  );
}
