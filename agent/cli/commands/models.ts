import path from 'node:path';
import type { Command } from 'commander';
import { fetchModel } from '../../../models/store/fetch.js';
import { loadManifest, manifestEntry } from '../../../models/store/manifest.js';
import { verifyModels } from '../../../models/store/verify.js';
import type { CliResult } from '../main.js';
import { UsageError } from '../usage-error.js';

/** Where fetched models live unless --dir says: VIGIL_MODEL_DIR, else ./data/models (the default dataDir). */
export const defaultModelDir = () => process.env.VIGIL_MODEL_DIR ?? path.join('data', 'models');

interface StoreOpts {
  dir?: string;
  manifest?: string;
  mirror?: string;
  json?: boolean;
}

/** `vigil models list|fetch|verify`: the known models (models/manifest.json), fetched and checked by sha256. */
export function registerModels(program: Command, result: CliResult): void {
  const models = program.command('models').description('known models: list, fetch (sha256-verified), verify');
  const common = (c: Command) =>
    c
      .option('--dir <dir>', 'model directory (default: $VIGIL_MODEL_DIR or ./data/models)')
      .option('--manifest <file>', 'model manifest (default: models/manifest.json)');

  common(models.command('list').description('print the manifest'))
    .option('--json', 'as JSON')
    .action((opts: StoreOpts) => {
      return run(result, async () => {
        const manifest = loadManifest(opts.manifest);
        if (opts.json) console.log(JSON.stringify(manifest.models, null, 2));
        else
          for (const m of manifest.models)
            console.log(
              `${m.id}  ${m.family}  ${m.input.join('×')}  ${m.classes.count} ${m.classes.set} classes  ${m.licence}`,
            );
        return 0;
      });
    });

  common(models.command('fetch').argument('<id...>', 'model ids from the manifest'))
    .description('download models, verify size and sha256, install atomically; refuse anything else')
    .option('--mirror <dir|url>', 'fetch from a local directory or http(s) base URL (env VIGIL_MODEL_MIRROR)')
    .action((ids: string[], opts: StoreOpts) => {
      return run(result, async () => {
        const manifest = loadManifest(opts.manifest);
        const dir = opts.dir ?? defaultModelDir();
        const mirror = opts.mirror ?? process.env.VIGIL_MODEL_MIRROR;
        knownIds(manifest, ids); // a typo is refused before anything is downloaded
        let failed = 0;
        for (const id of ids) {
          try {
            const r = await fetchModel(manifestEntry(manifest, id), { dir, mirror });
            console.log(
              r.from === 'present'
                ? `${id}: already present and verified: ${r.path}`
                : `${id}: verified and installed: ${r.path} (${r.bytes} bytes from ${r.from})`,
            );
          } catch (err) {
            console.error(`vigil: ${(err as Error).message}`);
            failed++;
          }
        }
        return failed ? 1 : 0;
      });
    });

  common(
    models
      .command('verify')
      .argument('[id...]', 'model ids (default: every manifest model, and list others)'),
  )
    .description('check the models on disk against the manifest (size and sha256)')
    .option('--json', 'as JSON')
    .action((ids: string[], opts: StoreOpts) => {
      return run(result, async () => {
        const manifest = loadManifest(opts.manifest);
        knownIds(manifest, ids);
        const lines = await verifyModels(manifest, opts.dir ?? defaultModelDir(), ids);
        if (opts.json) console.log(JSON.stringify(lines, null, 2));
        else
          for (const l of lines)
            console.log(
              `${l.status.padEnd(8)} ${l.id.padEnd(24)} ${l.file}${l.detail ? `: ${l.detail}` : ''}`,
            );
        // Missing is an error only for models asked for by id; a mismatch always is.
        const bad = lines.filter((l) => l.status === 'mismatch' || (ids.length && l.status === 'missing'));
        return bad.length ? 1 : 0;
      });
    });
}

/** An id the manifest does not know is a wrong argument (exit 2), not a failed fetch (exit 1). */
function knownIds(manifest: ReturnType<typeof loadManifest>, ids: string[]): void {
  for (const id of ids) {
    try {
      manifestEntry(manifest, id);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
}

function run(result: CliResult, body: () => Promise<number>): Promise<void> {
  return body().then(
    (code) => void (result.code = code),
    (err: unknown) => {
      console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
      result.code = err instanceof UsageError ? 2 : 1;
    },
  );
}
