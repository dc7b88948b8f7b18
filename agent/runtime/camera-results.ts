import type { Subject } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { DetectionEvent } from '../../pipeline/camera/camera-pipeline.js';
import type { CameraState } from '../../pipeline/camera/camera-state.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { Topics } from '../mqtt/topics.js';
import type { Outbox } from '../outbox/outbox.js';
import { enqueueSafetyEvents } from '../safety/safety-hub.js';
import type { CameraRuntime } from './agent-types.js';
import { enqueueCameraState } from './camera-state-message.js';
import { detectionPayload } from './detection-message.js';

/** What CameraResults reads from the agent, at each result: the outbox and the link are set at its start. */
export interface ResultsHost {
  readonly outbox: Outbox;
  readonly link: MqttLink | undefined;
  readonly topics: Topics;
  readonly log: Logger;
  readonly cameras: Map<string, CameraRuntime>;
  readonly detections$: Subject<DetectionEvent>;
  readonly states$: Subject<CameraState>;
}

/**
 * Where a camera's output goes: committed to the outbox first, then the link is woken and subscribers told.
 * Apart from the Agent, which starts, restarts and stops the cameras but never reads what they produce.
 */
export class CameraResults {
  constructor(private readonly host: ResultsHost) {}

  /** A camera's state changed (its runtime keeps it while it is the camera's current run). */
  state(runtime: CameraRuntime, state: CameraState): void {
    const { cameras, log, outbox, topics, link, states$ } = this.host;
    if (cameras.get(state.camera) === runtime) runtime.state = state;
    const level = state.state === 'failed' || state.state === 'stalled' ? 'warn' : 'info';
    log[level]('camera state', { camera: state.camera, state: state.state, reason: state.reason });
    enqueueCameraState(outbox, topics, state);
    link?.notify();
    states$.next(state);
  }

  detection(runtime: CameraRuntime, event: DetectionEvent): void {
    const { outbox, topics, link, detections$ } = this.host;
    const previous = runtime.last;
    runtime.last = event;
    outbox.enqueue({
      topic: topics.camera(event.camera).detections,
      stream: `detections/${event.camera}`,
      priority: 0,
      build: (meta) => detectionPayload(event, meta),
    });
    if (event.safetyEvents?.length) enqueueSafetyEvents(outbox, topics, event.safetyEvents);
    link?.notify();
    detections$.next(event);
    // The last holder of the previous frame's bytes: subscribers read them synchronously (or copy them).
    previous?.frame.recycle();
  }

  /** A camera's pipeline ended (stopped, crashed, file over): its open safety events end with it. */
  pipelineEnded(runtime: CameraRuntime): void {
    const open = runtime.safety?.close() ?? [];
    runtime.safety = undefined;
    if (!open.length || !this.host.outbox) return;
    enqueueSafetyEvents(this.host.outbox, this.host.topics, open);
    this.host.link?.notify();
  }
}
