import type { CameraState } from '../../pipeline/camera/camera-state.js';
import type { Topics } from '../mqtt/topics.js';
import type { Outbox } from '../outbox/outbox.js';

/**
 * Commits a camera's retained `…/cameras/<camera>/state` (docs/mqtt.md) to the outbox. A state still waiting
 * there is replaced by the newer one (coalesced), so subscribers get the latest after an outage.
 */
export function enqueueCameraState(outbox: Outbox, topics: Topics, state: CameraState): void {
  outbox.enqueue({
    topic: topics.camera(state.camera).state,
    priority: 1,
    retain: true,
    coalesceKey: `state/${state.camera}`,
    build: ({ ts }) => ({ ...state, ts }),
  });
}
