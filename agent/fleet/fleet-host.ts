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

/**
 * What the fleet service uses of the Agent (agent/runtime/agent.ts): its public methods and maps, nothing
 * private. The Agent satisfies it as is; sim-host.ts is a light one for fleet simulations.
 */
export interface FleetHost {
  config: VigilConfig;
  readonly log: Logger;
  readonly topics: Pick<Topics, 'root'>;
  readonly outbox: Pick<Outbox, 'enqueue'>;
  readonly link: Pick<MqttLink, 'notify' | 'subscribe'> | undefined;
  readonly cameras: ReadonlyMap<string, { config: CameraConfig; state: CameraState }>;
  readonly detectors: Map<string, FleetDetector>;
  readonly detections$: Observable<DetectionEvent>;
  loadModel(id: string, cfg: ModelConfig): Promise<FleetDetector>;
  startCamera(camera: CameraConfig): void;
  stopCamera(id: string): Promise<void>;
}
