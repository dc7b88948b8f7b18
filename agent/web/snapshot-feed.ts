import type { Agent } from '../runtime/agent.js';
import type { SnapshotRenderer } from './snapshot-renderer.js';
import type { SnapshotEvent } from './status-schema.js';

/** The `snapshot` event of `/api/events` (schema: SnapshotEvent in status-schema.ts, docs/http.md). */
export type SnapshotMessage = SnapshotEvent;

export interface SnapshotHub {
  readonly size: number;
  broadcast(event: string, data: string): void;
}

/**
 * Pushes each camera's latest snapshot to the open pages over their event stream, once per tick: one render
 * and one base64 text per camera, written to every page. Pages used to fetch the JPEG each second, and ten
 * pages cost ten HTTP requests a second, most of the status page's CPU (docs/http.md).
 */
export class SnapshotFeed {
  private readonly latest = new Map<string, { frameNo: number; data: string }>();
  private busy = false;

  constructor(
    private readonly agent: Pick<Agent, 'cameras' | 'detectors'>,
    private readonly renderer: Pick<SnapshotRenderer, 'snapshot'>,
    private readonly hub: SnapshotHub,
  ) {}

  /** Renders the cameras' new frames (only while a page is open) and sends them to every page. */
  async tick(): Promise<void> {
    if (!this.hub.size || this.busy) return;
    this.busy = true;
    try {
      for (const [id, cam] of this.agent.cameras) {
        const last = cam.last;
        if (!last) continue;
        const order = this.agent.detectors.get(cam.config.model)?.info.input.pixelOrder ?? 'rgb';
        const snap = await this.renderer.snapshot(last, order);
        if (!snap || this.latest.get(id)?.frameNo === snap.frameNo) continue;
        const message: SnapshotMessage = {
          camera: id,
          frameNo: snap.frameNo,
          ts: snap.ts,
          width: snap.width,
          height: snap.height,
          jpeg: snap.jpeg.toString('base64'),
        };
        const data = JSON.stringify(message);
        this.latest.set(id, { frameNo: snap.frameNo, data });
        this.hub.broadcast('snapshot', data);
      }
    } finally {
      this.busy = false;
    }
  }

  /** A camera removed from the config: its last snapshot goes. */
  forget(camera: string): void {
    this.latest.delete(camera);
  }

  /** Cameras whose last snapshot is kept. */
  get cameras(): string[] {
    return [...this.latest.keys()];
  }

  /** What a page that connects now gets at once: the latest snapshot of each camera still configured. */
  current(): { event: string; data: string }[] {
    return [...this.latest]
      .filter(([id]) => this.agent.cameras.has(id))
      .map(([, s]) => ({ event: 'snapshot', data: s.data }));
  }
}
