import { insecureSettings } from '../../config/insecure-settings.js';
import { createLogger } from '../../config/logger.js';
import type { VigilConfig } from '../../config/schema.js';
import { version } from './version.js';
import { preferPersisted } from '../fleet/config-store.js';
import { Agent } from './agent.js';

/** The graceful-stop budget: the contract is "exits within 5 s" after SIGINT/SIGTERM. */
const stopDeadlineMs = 4000;

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function runAgent(fileCfg: VigilConfig, json = false): Promise<number> {
  let log = createLogger({ level: fileCfg.logLevel, json });
  // A box managed by a fleet starts from its last-known-good pushed config when that is newer (docs/fleet.md).
  const cfg = preferPersisted(fileCfg, log);
  if (cfg !== fileCfg) log = createLogger({ level: cfg.logLevel, json });
  // Allowed (a closed LAN), but an installer reading the log must see a secret going out in clear.
  for (const s of insecureSettings(cfg)) log.warn('insecure setting', { field: s.field, why: s.why });
  const agent = new Agent(cfg, { log, version });
  let signalled = false;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signalled = true;
      log.info('stopping', { signal });
      const force = setTimeout(() => {
        log.error('graceful stop took too long, exiting');
        resolve(1);
      }, stopDeadlineMs + 800);
      force.unref();
      agent.stop(stopDeadlineMs).then(
        () => {
          clearTimeout(force);
          log.info('stopped');
          resolve(0);
        },
        (err: unknown) => {
          log.error('stop failed', { reason: String(err) });
          resolve(1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    await agent.start();
  } catch (err) {
    console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  // A signal during start-up (a long model load) stops the agent before it ever runs.
  if (!signalled)
    log.info('agent running', { site: cfg.site, device: cfg.device, cameras: cfg.cameras.length, version });
  return stopped;
}
