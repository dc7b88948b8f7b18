import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { formatIssues } from './config-issues.js';
import { expandEnv } from './env-refs.js';
import { crossReferenceIssues, VigilConfig, type VigilConfigInput } from './schema.js';

export { formatIssues } from './config-issues.js';

/** A config that could not be read or validated; `lines` are ready to print, one problem each. */
export class ConfigError extends Error {
  constructor(
    readonly lines: string[],
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}invalid config: ${lines.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function validateConfig(input: unknown, file?: string): VigilConfig {
  const result = VigilConfig.safeParse(input);
  if (result.success) return result.data;
  const lines = formatIssues(result.error.issues, input, VigilConfig);
  // zod skips cross-field checks when a field is wrong; run them anyway so every problem shows at once.
  if (input && typeof input === 'object') {
    for (const issue of crossReferenceIssues(input)) {
      const line = formatIssues([{ code: 'custom', input: undefined, ...issue }], input)[0]!;
      if (!lines.includes(line)) lines.push(line);
    }
  }
  throw new ConfigError(lines, file);
}

export function readConfigFile(file: string): VigilConfigInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'a directory, not a file'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new ConfigError([`cannot read config file: ${why}`], file);
  }
  try {
    const doc = parseYaml(text) as unknown;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new ConfigError(['(root): expected a YAML mapping'], file);
    }
    const unset: string[] = [];
    const expanded = expandEnv(doc, '', unset) as VigilConfigInput;
    if (unset.length) throw new ConfigError(unset, file);
    return resolvePaths(expanded, path.dirname(path.resolve(file)));
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      throw new ConfigError(
        // The parser's first line ends with the position again ("… at line 6, column 1:"): said once here.
        [
          `YAML syntax${at ? ` at line ${at.line}:${at.col}` : ''}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        ],
        file,
      );
    }
    throw err;
  }
}

/**
 * Model paths, plain-path sources, PM2.5 reference CSVs, the data dir and the MQTT TLS files in a file are
 * relative to that file.
 */
function resolvePaths(doc: VigilConfigInput, baseDir: string): VigilConfigInput {
  const rel = (v: unknown) => {
    return typeof v === 'string' && v !== '' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !path.isAbsolute(v)
      ? path.resolve(baseDir, v)
      : v;
  };
  const out = { ...doc } as Record<string, unknown>;
  if (doc.models && typeof doc.models === 'object') {
    out.models = Object.fromEntries(
      Object.entries(doc.models).map(([id, m]) => [
        id,
        m && typeof m === 'object' ? { ...m, path: rel((m as { path?: unknown }).path) } : m,
      ]),
    );
  }
  if (Array.isArray(doc.cameras)) {
    out.cameras = doc.cameras.map((c) => {
      if (!c || typeof c !== 'object') return c;
      const pm25 = (c as { pm25?: unknown }).pm25;
      const csv =
        pm25 && typeof pm25 === 'object' ? (pm25 as { referenceCsv?: unknown }).referenceCsv : undefined;
      return {
        ...c,
        source: rel((c as { source?: unknown }).source),
        ...(csv === undefined ? {} : { pm25: { ...(pm25 as object), referenceCsv: rel(csv) } }),
      };
    });
  }
  if (typeof doc.dataDir === 'string') out.dataDir = rel(doc.dataDir);
  const tls = (doc.mqtt as { tls?: unknown } | undefined)?.tls;
  if (tls && typeof tls === 'object') {
    // Certificates kept beside the config (`ca: certs/ca.pem`) must not depend on the service's working dir.
    const t = tls as Record<string, unknown>;
    const files = Object.fromEntries(
      (['ca', 'cert', 'key'] as const).filter((k) => k in t).map((k) => [k, rel(t[k])]),
    );
    out.mqtt = { ...doc.mqtt, tls: { ...t, ...files } } as VigilConfigInput['mqtt'];
  }
  return out as VigilConfigInput;
}

export interface QuickFlags {
  source?: string;
  model?: string;
  mqtt?: string;
  site?: string;
  device?: string;
  dataDir?: string;
  http?: string;
}

/**
 * Quick flags override a file, or stand in for one: `--source` and `--model` alone make a one-camera config.
 * With a file, `--source` replaces the first camera's source and `--model` its model's path.
 */
export function applyQuickFlags(base: VigilConfigInput | undefined, flags: QuickFlags): VigilConfigInput {
  const cfg: Record<string, unknown> = base
    ? structuredClone(base)
    : {
        site: 'site',
        device:
          hostname()
            .replace(/[^A-Za-z0-9_-]/g, '-')
            .slice(0, 64) || 'device',
        models: {},
        cameras: [],
      };
  const models = (cfg.models ?? {}) as Record<string, Record<string, unknown>>;
  const cameras = (cfg.cameras ?? []) as Record<string, unknown>[];
  if (flags.model) {
    const first = cameras[0]?.model as string | undefined;
    if (first && models[first]) models[first] = { ...models[first], path: flags.model };
    else models.default = { path: flags.model };
  }
  if (flags.source) {
    if (cameras[0]) cameras[0] = { ...cameras[0], source: flags.source };
    else cameras.push({ id: 'cam1', source: flags.source, model: Object.keys(models)[0] ?? 'default' });
  }
  if (flags.mqtt) cfg.mqtt = { ...((cfg.mqtt as object) ?? {}), url: flags.mqtt };
  if (flags.site) cfg.site = flags.site;
  if (flags.device) cfg.device = flags.device;
  if (flags.dataDir) cfg.dataDir = flags.dataDir;
  if (flags.http) {
    const m = /^(.*):(\d+)$/.exec(flags.http);
    if (!m) throw new ConfigError([`--http: expected HOST:PORT, got "${flags.http}"`]);
    cfg.http = {
      ...((cfg.http as object) ?? {}),
      enabled: true,
      host: m[1] || '0.0.0.0',
      port: Number(m[2]),
    };
  }
  cfg.models = models;
  cfg.cameras = cameras;
  return cfg as VigilConfigInput;
}

/** File (optional) + quick flags -> a validated config, or a ConfigError listing every problem. */
export function loadConfig(file: string | undefined, flags: QuickFlags = {}): VigilConfig {
  const base = file ? readConfigFile(file) : undefined;
  if (!file && !flags.source && !flags.model) {
    throw new ConfigError(['no config: give --config FILE, or at least --source and --model']);
  }
  // Without a file the one camera needs both; said as flags, not as the fields of a config never written.
  if (!file && !flags.model)
    throw new ConfigError(['--source needs --model (an ONNX detector) without a config file']);
  if (!file && !flags.source)
    throw new ConfigError(['--model needs --source (a camera) without a config file']);
  return validateConfig(applyQuickFlags(base, flags), file);
}
