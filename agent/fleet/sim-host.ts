import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { Subject } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { CameraConfig, ModelConfig, VigilConfig } from '../../config/schema.js';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../pipeline/camera/camera-state.js';
import type { OutboxMessage } from '../outbox/outbox.js';
import { topicMatches } from '../mqtt/subscriptions.js';
import { preferPersisted } from './config-store.js';
import type { FleetDetector, FleetHost } from './fleet-host.js';
import { FleetService } from './fleet-service.js';

/**
 * A light FleetHost for fleet simulations (scripts/bench-fleet.ts) and the fleet service's own tests: the
 * same FleetService, ConfigStore and apply logic as a box, but cameras are synthetic (a timer emits one
 * empty detection event per frame at the camera's fps; a source containing `unreachable` never delivers)
 * and "models" are checked for existence only (no inference). Messages go straight to one MQTT client
 * per host instead of through a SQLite outbox, so hundreds of hosts fit in one process.
 */
export class SimHost implements FleetHost {
  readonly cameras = new Map<string, { config: CameraConfig; state: CameraState; timer?: NodeJS.Timeout }>();
  readonly detectors = new Map<string, FleetDetector>();
  readonly detections$ = new Subject<DetectionEvent>();
  readonly topics: { root: string };
  readonly outbox: { enqueue(msg: OutboxMessage): { id: string; seq: null } };
  readonly link: FleetHost['link'];
  private client: MqttClient | undefined;
  private readonly handlers = new Map<string, (payload: Buffer, msg: never) => void>();

  constructor(
    public config: VigilConfig,
    readonly log: Logger,
  ) {
    this.topics = { root: `${config.mqtt?.baseTopic ?? 'vigil'}/${config.site}/${config.device}` };
    this.outbox = {
      enqueue: (msg) => {
        const id = randomUUID();
        const payload = JSON.stringify(msg.build({ id, seq: null, ts: Date.now() }));
        this.client?.publish(msg.topic, payload, { qos: 1, retain: msg.retain ?? false });
        return { id, seq: null };
      },
    };
    this.link = {
      notify: () => {},
      subscribe: (filter, handler) => {
        this.handlers.set(filter, handler as never);
        if (this.client?.connected) this.client.subscribe(filter, { qos: 1 });
        return () => {
          this.handlers.delete(filter);
          this.client?.unsubscribe(filter);
        };
      },
    };
  }

  /** Connects (clean session: retained documents arrive again on every connect, as on a box). */
  async connect(): Promise<void> {
    const client = mqtt.connect(this.config.mqtt!.url, {
      clientId: `sim-${this.config.site}-${this.config.device}-${randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 0,
    });
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      for (const [filter, h] of this.handlers) {
        if (topicMatches(filter, topic)) h(payload, { topic, payload, retain: packet.retain } as never);
      }
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const filters = [...this.handlers.keys()];
    if (filters.length) await client.subscribeAsync(filters, { qos: 1 });
  }

  async disconnect(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.endAsync();
  }

  /** Loads the models and starts the cameras of `config` (what Agent.start does). */
  async startAll(): Promise<void> {
    const enabled = this.config.cameras.filter((c) => c.enabled);
    for (const id of new Set(enabled.map((c) => c.model)))
      this.detectors.set(id, await this.loadModel(id, this.config.models[id]!));
    for (const c of enabled) this.startCamera(c);
  }

  stopAll(): void {
    for (const id of [...this.cameras.keys()]) void this.stopCamera(id);
  }

  async loadModel(id: string, cfg: ModelConfig): Promise<FleetDetector> {
    if (!existsSync(cfg.path)) throw new Error(`model "${id}": no such file ${cfg.path}`);
    return {
      info: { provider: 'sim' } as unknown as FleetDetector['info'],
      detect: () => Promise.reject(new Error('a simulated detector runs no inference')),
      close: () => Promise.resolve(),
    };
  }

  startCamera(camera: CameraConfig): void {
    const previous = this.cameras.get(camera.id);
    if (previous?.timer) clearInterval(previous.timer);
    const state: CameraState = { camera: camera.id, state: 'connecting', since: Date.now() };
    const entry: { config: CameraConfig; state: CameraState; timer?: NodeJS.Timeout } = {
      config: camera,
      state,
    };
    this.cameras.set(camera.id, entry);
    if (camera.source.includes('unreachable')) return;
    let frameNo = 0;
    entry.timer = setInterval(
      () => {
        entry.state = { camera: camera.id, state: 'streaming', since: state.since };
        const event = { camera: camera.id, frameNo: frameNo++, ts: Date.now(), modelId: camera.model };
        this.detections$.next(event as unknown as DetectionEvent);
      },
      1000 / (camera.fps ?? 5),
    );
  }

  async stopCamera(id: string): Promise<void> {
    const entry = this.cameras.get(id);
    if (entry?.timer) clearInterval(entry.timer);
    this.cameras.delete(id);
  }
}

/** One simulated box: its host and fleet service, started from `fileCfg` as `vigil run` would. */
export interface SimBox {
  host: SimHost;
  service: FleetService;
  stop(): Promise<void>;
}

export async function startSimBox(fileCfg: VigilConfig, log: Logger): Promise<SimBox> {
  const cfg = preferPersisted(fileCfg, log);
  const host = new SimHost(cfg, log);
  const service = new FleetService(cfg.fleet!);
  await host.startAll();
  await host.connect();
  await service.start(host);
  return {
    host,
    service,
    stop: async () => {
      await service.stop();
      host.stopAll();
      await host.disconnect();
    },
  };
}
