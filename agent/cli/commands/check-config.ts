import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../../config/load.js';
import { insecureSettings } from '../../../config/insecure-settings.js';
import { type VigilConfig } from '../../../config/schema.js';
import { redactUrl } from '../../../config/redact-url.js';
import { sourceKindOf } from '../../../pipeline/source/source-kinds.js';
import { readTlsFile } from '../../mqtt/tls-errors.js';
import { addQuickFlags, configFileOf, quickFlagsOf } from '../quick-flags.js';
import { UsageError } from '../usage-error.js';
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
      // Not refused (a closed LAN may be fine), but never silent: each names its field, not its secret.
      for (const s of insecureSettings(cfg)) console.log(`  warning: ${s.field}: ${s.why}`);
      for (const line of missingFiles(cfg)) console.log(`  warning: ${line}`);
      result.code = 0;
    } catch (err) {
      result.code = reportConfigError(err);
    }
  });
}

/** Prints a config error one problem per line; exit code 2 for config and usage errors, 1 otherwise. */
export function reportConfigError(err: unknown): number {
  if (err instanceof ConfigError) {
    for (const line of err.lines)
      console.error(`vigil: config error${err.file ? ` in ${err.file}` : ''}: ${line}`);
    return 2;
  }
  console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
  return err instanceof UsageError ? 2 : 1;
}

/**
 * The model files, local sources (files, /dev/video*) and MQTT TLS files that are not on this machine. Warnings, not
 * errors: a config is often written on another machine than the box. `vigil doctor` checks them properly.
 */
export function missingFiles(cfg: VigilConfig): string[] {
  const lines: string[] = [];
  for (const [id, m] of Object.entries(cfg.models))
    if (!existsSync(m.path)) lines.push(`model ${id}: no file ${m.path} on this machine`);
  for (const c of cfg.cameras) {
    const kind = sourceKindOf(c.source);
    if (kind.name !== 'file' && kind.name !== 'v4l2') continue;
    const file = kind.input(c);
    if (!existsSync(file))
      lines.push(`camera ${c.id}: no ${kind.name === 'v4l2' ? 'device' : 'file'} ${file} on this machine`);
    else if (kind.name === 'file' && statSync(file).isDirectory())
      lines.push(`camera ${c.id}: ${file} is a directory, not a video file (the camera would fail)`);
  }
  for (const field of ['ca', 'cert', 'key'] as const) {
    try {
      if (cfg.mqtt) readTlsFile(cfg.mqtt, field);
    } catch (err) {
      lines.push(`${(err as Error).message} (the broker link would fail)`);
    }
  }
  if (lines.length) lines.push('(run `vigil doctor` on the box itself to check models, cameras and broker)');
  return lines;
}
