import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../../config/load.js';
import { redactUrl } from '../../../config/schema.js';
import { addQuickFlags, configFileOf, quickFlagsOf } from '../quick-flags.js';
import type { CliResult } from '../main.js';

export function registerCheckConfig(program: Command, result: CliResult): void {
  addQuickFlags(
    program
      .command('check-config')
      .argument('[file]', 'config file (same as --config)')
      .description('validate a config without running'),
  ).action((file: string | undefined, opts: Record<string, unknown>) => {
    try {
      const cfg = loadConfig(configFileOf(file, opts), quickFlagsOf(opts));
      console.log(
        `ok: site ${cfg.site}, device ${cfg.device}, ${cfg.cameras.length} camera(s), ${Object.keys(cfg.models).length} model(s)`,
      );
      for (const c of cfg.cameras)
        console.log(
          `  camera ${c.id}: ${redactUrl(c.source)} -> model ${c.model}${c.enabled ? '' : ' (disabled)'}`,
        );
      result.code = 0;
    } catch (err) {
      result.code = reportConfigError(err);
    }
  });
}

/** Prints a config error one problem per line; exit code 2 for config errors, 1 otherwise. */
export function reportConfigError(err: unknown): number {
  if (err instanceof ConfigError) {
    for (const line of err.lines)
      console.error(`vigil: config error${err.file ? ` in ${err.file}` : ''}: ${line}`);
    return 2;
  }
  console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
}
