import type { Command } from 'commander';
import { loadConfig } from '../../../config/load.js';
import type { VigilConfig } from '../../../config/schema.js';
import type { CliResult } from '../main.js';
import { addQuickFlags, configFileOf, quickFlagsOf } from '../quick-flags.js';
import { reportConfigError } from './check-config.js';

export function registerRun(program: Command, result: CliResult): void {
  addQuickFlags(
    program.command('run').argument('[file]', 'config file (same as --config)').description('run the agent'),
  )
    .option('--log-json', 'log JSON lines')
    .action(async (file: string | undefined, opts: Record<string, unknown>) => {
      let cfg: VigilConfig;
      try {
        cfg = loadConfig(configFileOf(file, opts), quickFlagsOf(opts));
      } catch (err) {
        result.code = reportConfigError(err);
        return;
      }
      // Loaded on demand: `check-config` and `--help` should not pay for onnxruntime and sharp.
      const { runAgent } = await import('../../runtime/run-agent.js');
      result.code = await runAgent(cfg, Boolean(opts.logJson));
    });
}
