export const cameraStates = ['connecting', 'streaming', 'stalled', 'failed', 'stopped'] as const;
export type CameraStateName = (typeof cameraStates)[number];

/** A camera's state with the reason a person can act on (never a credential). */
export interface CameraState {
  camera: string;
  state: CameraStateName;
  reason?: string;
  /** Epoch ms when this state began. */
  since: number;
}
