import { expandEnv } from '../../config/env-refs.js';
import { ConfigError, validateConfig } from '../../config/load.js';
import type {
  CameraConfig,
  HttpConfig,
  ModelConfig,
  MqttConfig,
  OutboxConfig,
  VigilConfig,
} from '../../config/schema.js';
import type { ShadowConfig } from './fleet-document.js';
import type { RestartSection } from './fleet-payloads.js';

/**
 * The part of a box's config that the fleet set: what a pushed document resolved to (model URLs replaced
 * by the verified local files). `models`, `cameras` and `shadow` come from the latest document alone; the
 * transport sections stay as the last document that named them set them.
 */
export interface ManagedConfig {
  models: Record<string, ModelConfig>;
  cameras: CameraConfig[];
  shadow?: ShadowConfig;
  mqtt?: MqttConfig;
  http?: HttpConfig;
  outbox?: OutboxConfig;
  logLevel?: VigilConfig['logLevel'];
}

/** Sections that take effect only when the agent starts (the MQTT link, the web server, the outbox, the logger). */
export const restartSections: readonly RestartSection[] = ['mqtt', 'http', 'outbox', 'logLevel'];

/** The transport sections of `previous` that `next` does not name carry over. */
export function carryOver(next: ManagedConfig, previous: ManagedConfig | undefined): ManagedConfig {
  const out: ManagedConfig = { ...next };
  for (const s of restartSections) {
    if (out[s] === undefined && previous?.[s] !== undefined)
      (out as unknown as Record<string, unknown>)[s] = previous[s];
  }
  return out;
}

/** The managed sections with their `${VAR}` references expanded from `env`; throws a ConfigError naming each unset one. */
export function expandManaged(managed: ManagedConfig, env: NodeJS.ProcessEnv = process.env): ManagedConfig {
  const unset: string[] = [];
  const expanded = expandEnv(managed, '', unset, env) as ManagedConfig;
  if (unset.length) throw new ConfigError(unset);
  return expanded;
}

/**
 * The box's config with the managed sections laid over it, their `${VAR}` references expanded from this
 * process's environment (a pushed body keeps them, see apply-document.ts). Identity (site, device, dataDir,
 * fleet) always comes from `base`. Throws a ConfigError (one line per problem) when the result is not a
 * valid config or a referenced variable is not set.
 */
export function composeConfig(base: VigilConfig, managed: ManagedConfig): VigilConfig {
  const m = expandManaged(managed);
  const input: Record<string, unknown> = { ...base, models: m.models, cameras: m.cameras };
  for (const s of restartSections) if (m[s] !== undefined) input[s] = m[s];
  return validateConfig(input);
}
