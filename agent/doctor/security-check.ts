import { insecureSettings } from '../../config/insecure-settings.js';
import type { VigilConfig } from '../../config/schema.js';
import { result, type CheckResult } from './check.js';

/**
 * The config's settings that send a secret over the network in clear or accept any broker certificate
 * (config/insecure-settings.ts): a warning each, subject the field, since a closed LAN may make them right.
 */
export function checkSecurity(cfg: VigilConfig): CheckResult[] {
  const found = insecureSettings(cfg);
  if (!found.length)
    return [
      result('security', undefined, 'pass', 'no secret sent in clear, no broker certificate taken unchecked'),
    ];
  return found.map((s) => result('security', s.field, 'warn', s.why));
}
