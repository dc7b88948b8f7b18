import type { Subject, Subscription } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { CameraConfig } from '../../config/schema.js';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../pipeline/camera/camera-state.js';
import type { CameraStats } from '../../pipeline/camera/camera-stats.js';
import type { CameraSafety } from '../../pipeline/safety/camera-safety.js';
import type { AgentService } from './services.js';

/** What the agent holds per running camera. */
export interface CameraRuntime {
  config: CameraConfig;
  state: CameraState;
  stats: CameraStats;
  /** The latest processed frame and its result, for snapshots. */
  last?: DetectionEvent;
  subscription?: Subscription;
  done?: Promise<void>;
  /** Stops this camera alone (graceful: in-flight inferences finish). */
  stop$?: Subject<void>;
  /** Tracking and safety rules (absent when the camera's tracking is off). */
  safety?: CameraSafety;
}

export interface AgentOptions {
  log: Logger;
  version: string;
  /** Components beside the pipelines (status page, health, drift, …); default: the registry in services.ts. */
  services?: AgentService[];
  /** How long a failed service waits before it is started again (default 5 s). */
  serviceRestartMs?: number;
  /** First wait before a model that failed to load at start-up is tried again (default 30 s, doubling). */
  modelRetryMs?: number;
  /** The longest wait between two tries of such a model (default 10 min). */
  modelRetryMaxMs?: number;
}
