import type { Observable } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { CameraConfig, ModelConfig, VigilConfig } from '../../config/schema.js';
import type { DetectionEvent, FrameDetector } from '../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../pipeline/camera/camera-state.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Topics } from '../mqtt/topics.js';

export interface FleetDetector extends FrameDetector {
  close(): Promise<void>;
}

/** The agent's retry of models that failed to load at start-up (agent/runtime/model-retry.ts), as an apply uses it. */
export interface FleetModelRetry {
  /** Failing models: the config each is retried with and why it last failed. */
  failing(): ReadonlyMap<string, { cfg: ModelConfig; reason: string }>;
  /** Holds the retry until the returned function is called (an attempt in progress ends first). */
  pause(): Promise<() => void>;
  /** Reports a camera of a failing model `failed` with that model's reason; false when it is not failing. */
  reportWaiting(camera: CameraConfig): boolean;
  /** After an applied push: drops the models it loaded or no longer needs, retries the rest with its config. */
  follow(): void;
}

/**
 * What the fleet service uses of the Agent (agent/runtime/agent.ts): its public methods and maps, nothing
 * private. The Agent satisfies it as is; sim-host.ts is a light one for fleet simulations.
 */
export interface FleetHost {
  config: VigilConfig;
  readonly log: Logger;
  readonly topics: Pick<Topics, 'root'>;
  readonly outbox: Pick<Outbox, 'enqueue'>;
  /** `state$` (absent on sim-host.ts): the fleet service republishes its retained state at every connection. */
  readonly link: (Pick<MqttLink, 'notify' | 'subscribe'> & Partial<Pick<MqttLink, 'state$'>>) | undefined;
  readonly cameras: ReadonlyMap<string, { config: CameraConfig; state: CameraState }>;
  readonly detectors: Map<string, FleetDetector>;
  readonly detections$: Observable<DetectionEvent>;
  /** Absent on hosts that stop at start-up when a model fails (sim-host.ts). */
  readonly modelRetry?: FleetModelRetry;
  loadModel(id: string, cfg: ModelConfig): Promise<FleetDetector>;
  startCamera(camera: CameraConfig): void;
  stopCamera(id: string): Promise<void>;
  /** Once a push settles: forgets what it kept of cameras the config no longer runs (absent on sim-host.ts). */
  forgetRemovedCameras?(): void;
}
