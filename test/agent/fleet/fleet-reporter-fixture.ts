import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { silentLogger } from '../../../config/logger.js';
import { OutboxConfig, type VigilConfig, type VigilConfigInput } from '../../../config/schema.js';
import type { StoredConfig } from '../../../agent/fleet/config-store.js';
import { FleetBody } from '../../../agent/fleet/fleet-document.js';
import type { FleetHost } from '../../../agent/fleet/fleet-host.js';
import { FleetReporter } from '../../../agent/fleet/fleet-reporter.js';
import { fleetTopics } from '../../../agent/fleet/fleet-topics.js';
import type { ManagedConfig } from '../../../agent/fleet/managed-config.js';
import { Outbox } from '../../../agent/outbox/outbox.js';
import type { OutboxRow } from '../../../agent/outbox/outbox-types.js';

// What the fleet-reporter-*.test.ts files share: box1 of site yard, a real SQLite outbox per test, and the
// managed sections of a pushed document.

const root = mkdtempSync(path.join(tmpdir(), 'vigil-fleet-reporter-'));

export const fileInput: VigilConfigInput = {
  site: 'yard',
  device: 'box1',
  dataDir: root,
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'box' },
  http: { enabled: false },
  logLevel: 'info',
  models: { det: { path: '/m/det.onnx' } },
  cameras: [{ id: 'dock', source: '/sim/dock', model: 'det' }],
};

/** This test's outbox (opened before each test, closed after it). */
export let outbox: Outbox;
let n = 0;
export const lastPushFile = path.join(root, 'config', 'last-push.json');

/** Registers the file's hooks: a fresh outbox for each test, the temp dir removed after the file. */
export function useReporterOutbox(): void {
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    outbox = Outbox.open(path.join(root, `outbox-${++n}.db`), OutboxConfig.parse({ synchronous: 'OFF' }));
    rmSync(lastPushFile, { force: true }); // each test starts as a box that never had a push
  });
  afterEach(() => outbox.close());
}

/** What the reporter uses of the agent: its config, its outbox and (here absent) its MQTT link. */
export function host(cfg: VigilConfig = validateConfig(fileInput), link?: FleetHost['link']): FleetHost {
  return { config: cfg, outbox, link, log: silentLogger } as unknown as FleetHost;
}
export const reporter = (h = host()) =>
  new FleetReporter(h, fleetTopics('vigil'), ['north', 'dock-side'], ['k1', 'k2']);
export const rows = (): OutboxRow[] => outbox.next(100, new Set());
export const json = (r: OutboxRow) => JSON.parse(r.payload.toString('utf8')) as Record<string, unknown>;

/** Managed sections as a pushed document yields them (parsed by the real FleetBody). */
export const managedOf = (extra: Record<string, unknown>): ManagedConfig =>
  FleetBody.parse({
    models: { det: { path: '/m/det.onnx' } },
    cameras: [{ id: 'dock', source: '/sim/dock', model: 'det' }],
    ...extra,
  }) as ManagedConfig;
export const stored = (revision: number, managed: ManagedConfig): StoredConfig => ({
  format: 1,
  revision,
  digest: 'd',
  target: 'group:north',
  appliedAt: 1_700_000_000_123,
  managed,
  document: {},
});
