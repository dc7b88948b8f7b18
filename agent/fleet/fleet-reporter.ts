import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { VigilConfig } from '../../config/schema.js';
import { writeFileAtomic } from './atomic-file.js';
import type { StoredConfig } from './config-store.js';
import type { FleetHost } from './fleet-host.js';
import { ConfigResultPayload, FleetStatePayload, type RestartSection } from './fleet-payloads.js';
import { expandManaged } from './managed-config.js';
import type { FleetTopics } from './fleet-topics.js';
import { reconnections } from '../mqtt/link-connections.js';

/** What became of one document, before the reporter adds identity, id and time. */
export interface Outcome {
  revision: number | null;
  /** documentDigest() of the document, when it could be read far enough. */
  digest?: string;
  status: ConfigResultPayload['status'];
  errors: string[];
  changed: string[];
  warnings?: string[];
  restartRequired?: RestartSection[];
  durationMs?: number;
}

/** What the box runs now. */
export interface Running {
  revision: number;
  source: 'file' | 'fleet';
  stored?: StoredConfig;
}

/**
 * Publishes the fleet service's retained `config/result` and `config/state` through the outbox, and keeps
 * the latest outcome for the status page (agent/web/status-hooks.ts).
 */
export class FleetReporter {
  lastPush: LastPush | null;
  /** `<dataDir>/config/last-push.json`: the page still says how the last push ended after a restart. */
  private readonly lastPushFile: string;
  /** The transport sections this process started with (they change only at a restart). */
  private readonly startedWith: Pick<VigilConfig, RestartSection>;

  constructor(
    private readonly host: FleetHost,
    private readonly topics: FleetTopics,
    private readonly groups: string[],
    private readonly keyIds: string[],
  ) {
    const c = host.config;
    this.startedWith = { mqtt: c.mqtt, http: c.http, outbox: c.outbox, logLevel: c.logLevel };
    this.lastPushFile = path.join(c.dataDir, 'config', 'last-push.json');
    this.lastPush = readLastPush(this.lastPushFile);
  }

  result(o: Outcome, running: Running): void {
    const { config, outbox, link } = this.host;
    // The status page shows why a push failed, or what an applied one left failing.
    const message = o.errors[0] ?? o.warnings?.[0];
    this.lastPush = {
      at: Date.now(),
      status: o.status,
      revision: o.revision,
      ...(message && { message }),
    };
    try {
      mkdirSync(path.dirname(this.lastPushFile), { recursive: true });
      writeFileAtomic(this.lastPushFile, JSON.stringify(this.lastPush) + '\n');
    } catch {
      // A full disk or a read-only data dir: the page keeps it until the next restart, nothing more.
    }
    outbox.enqueue({
      topic: this.topics.result(config.site, config.device),
      priority: 2,
      retain: true,
      build: ({ id, ts }) =>
        ConfigResultPayload.parse({
          id,
          site: config.site,
          device: config.device,
          ...o,
          running: running.revision,
          ts,
        }),
    });
    link?.notify();
  }

  state(running: Running): void {
    const { config, outbox, link } = this.host;
    const stored = running.stored;
    const restartRequired = stored ? restartPending(this.startedWith, stored) : [];
    outbox.enqueue({
      topic: this.topics.state(config.site, config.device),
      priority: 1,
      retain: true,
      coalesceKey: 'fleet/state',
      build: ({ ts }) =>
        FleetStatePayload.parse({
          site: config.site,
          device: config.device,
          groups: this.groups,
          revision: running.revision,
          source: running.source,
          ...(stored && { target: stored.target, appliedAt: stored.appliedAt, digest: stored.digest }),
          keyIds: this.keyIds,
          ...(restartRequired.length && { restartRequired }),
          ts,
        }),
    });
    link?.notify();
  }

  /**
   * Publishes the state again at every (re)connection of the link: a broker restarted without persistence
   * has lost the retained state, and `vigil fleet push` (and dashboards) would not know this box until its
   * next apply or start. Like the agent's `status`. Returns the unsubscribe.
   */
  restateOnConnect(running: () => Running): () => void {
    const state$ = this.host.link?.state$; // a simulated host has none
    const sub = state$ && reconnections(state$).subscribe(() => this.state(running()));
    return () => sub?.unsubscribe();
  }

  /** For the status page: `{ revision, lastPush }`; no revision while the box runs its own file. */
  status(running: Running): unknown {
    const lp = this.lastPush;
    return {
      ...(running.source === 'fleet' && { revision: String(running.revision) }),
      lastPush: lp && {
        at: lp.at,
        result: lp.status === 'rolled_back' ? 'rolled-back' : lp.status,
        ...(lp.revision !== null && { revision: String(lp.revision) }),
        ...(lp.message && { message: lp.message }),
      },
    };
  }
}

/** Transport sections persisted but not what the running process was started with. */
function restartPending(running: Pick<VigilConfig, RestartSection>, stored: StoredConfig): RestartSection[] {
  // Compared as the sections ran: stored ones keep their `${VAR}` references (managed-config.ts).
  let m = stored.managed;
  try {
    m = expandManaged(m);
  } catch {
    // a variable gone from this process's environment since the apply: compare as written
  }
  const differs = (s: RestartSection) =>
    m[s] !== undefined && JSON.stringify(m[s]) !== JSON.stringify(running[s]);
  return (['mqtt', 'http', 'outbox', 'logLevel'] as const).filter(differs);
}

const LastPush = z.object({
  at: z.number(),
  status: ConfigResultPayload.shape.status,
  revision: z.number().nullable(),
  message: z.string().optional(),
});
type LastPush = z.infer<typeof LastPush>;

/** The last push's outcome as saved, or null: none yet, or a file that cannot be read is no outcome. */
function readLastPush(file: string): LastPush | null {
  try {
    return LastPush.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}
