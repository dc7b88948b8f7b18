import type { Command } from 'commander';
import type { QuickFlags } from '../../config/load.js';

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
