import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../../config/load.js';
import type { VigilConfig } from '../../../config/schema.js';
import type { CliResult } from '../main.js';
import { addQuickFlags, configFileOf, quickFlagsOf } from '../quick-flags.js';
import { reportConfigError } from './check-config.js';

/** `vigil doctor`: checks this box against a config and prints one verdict per line; exit 1 on any failure. */
export function registerDoctor(program: Command, result: CliResult): void {
  addQuickFlags(
    program
      .command('doctor')
      .argument('[file]', 'config file (same as --config)')
      .description('check ffmpeg, providers, GPU, broker, cameras, disk and clock'),
  )
    .option(
      '--timeout <seconds>',
      'seconds each camera has to deliver its first frame (default: its connectTimeoutS)',
    )
    .option('--json', 'print the results as JSON')
    .action(async (file: string | undefined, opts: Record<string, unknown>) => {
      let cfg: VigilConfig;
      try {
        if (opts.timeout !== undefined && !(Number(opts.timeout) > 0))
          throw new ConfigError([
            `--timeout: expected a positive number of seconds, got "${String(opts.timeout)}"`,
          ]);
        cfg = loadConfig(configFileOf(file, opts), quickFlagsOf(opts));
      } catch (err) {
        result.code = reportConfigError(err);
        return;
      }
      // Loaded on demand, like `run`: the checks pull in onnxruntime, mqtt and the pipeline.
      const { runDoctor, defaultDoctorOptions } = await import('../../doctor/run-doctor.js');
      const { exitCodeOf } = await import('../../doctor/check.js');
      const { renderTable } = await import('../../doctor/render-table.js');
      const timeout = opts.timeout === undefined ? {} : { cameraTimeoutS: Number(opts.timeout) };
      const results = await runDoctor(cfg, { ...defaultDoctorOptions, ...timeout });
      console.log(opts.json ? JSON.stringify(results, null, 2) : renderTable(results));
      result.code = exitCodeOf(results);
    });
}
