import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, type QuickFlags } from '../../config/load.js';

/** The flags `run`, `check-config` and `doctor` share: they override a config file or stand in for one. */
export function addQuickFlags(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config file')
    .option(
      '--source <url>',
      'camera source (rtsp://, http(s)://, a file, /dev/videoN): replaces the first camera',
    )
    .option('--model <file>', 'ONNX detector: replaces the first camera’s model path')
    .option('--mqtt <url>', 'MQTT broker, e.g. mqtt://127.0.0.1:1883')
    .option('--site <id>', 'site id')
    .option('--device <id>', 'device id')
    .option('--data-dir <dir>', 'where the outbox and state live')
    .option('--http <host:port>', 'status page address');
}

export function quickFlagsOf(opts: Record<string, unknown>): QuickFlags {
  const pick = (k: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
  const flags: QuickFlags = {};
  for (const [key, name] of [
    ['source', 'source'],
    ['model', 'model'],
    ['mqtt', 'mqtt'],
    ['site', 'site'],
    ['device', 'device'],
    ['dataDir', 'dataDir'],
    ['http', 'http'],
  ] as const) {
    const v = pick(name);
    if (v !== undefined) flags[key] = v;
  }
  return flags;
}

/** `vigil run FILE` and `vigil run --config FILE` are the same; both at once must name the same file. */
export function configFileOf(file: string | undefined, opts: Record<string, unknown>): string | undefined {
  const flag = typeof opts.config === 'string' ? opts.config : undefined;
  if (file !== undefined && flag !== undefined && path.resolve(file) !== path.resolve(flag))
    throw new ConfigError([`two config files: "${file}" and --config "${flag}"; give one`]);
  return file ?? flag;
}
