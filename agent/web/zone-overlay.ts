import type { ZoneConfig } from '../../config/safety-schema.js';
import type { Letterbox } from '../../models/types.js';
import type { CameraZone } from './status-schema.js';

/** The part of a snapshot's geometry the overlay needs: where it was cut from the model frame, its size. */
export interface SnapshotGeometry {
  /** Region of the model input the picture shows (the letterbox's scaled source, padding cut off). */
  crop: { left: number; top: number; width: number; height: number };
  /** The JPEG's own size in pixels. */
  width: number;
  height: number;
}

/**
 * Source pixel → snapshot pixel, through the letterbox: source → model input (scale, then the pad offset),
 * then model input → picture (minus the crop origin, scaled to the JPEG's size). Zones are configured in
 * source pixels; the snapshot is at model resolution with the padding cut off, maybe rescaled.
 */
export function sourceToSnapshot(
  [x, y]: readonly [number, number],
  lb: Letterbox,
  snap: SnapshotGeometry,
): [number, number] {
  const inX = lb.padX + (x * lb.scaledWidth) / lb.srcWidth;
  const inY = lb.padY + (y * lb.scaledHeight) / lb.srcHeight;
  const px = ((inX - snap.crop.left) * snap.width) / snap.crop.width;
  const py = ((inY - snap.crop.top) * snap.height) / snap.crop.height;
  return [round1(px), round1(py)];
}

/** A camera's zones for the page: the configured polygon, where it falls on the snapshot, who is inside. */
export function cameraZones(
  zones: readonly ZoneConfig[],
  occupancy: readonly { zone: string; trackIds: number[] }[] | undefined,
  geometry: { lb: Letterbox; snap: SnapshotGeometry } | undefined,
): CameraZone[] {
  return zones.map((z) => {
    const inside = occupancy?.find((o) => o.zone === z.id);
    return {
      id: z.id,
      ...(z.name ? { name: z.name } : {}),
      polygon: z.polygon.map(([x, y]) => [x, y] as [number, number]),
      snapshotPolygon: geometry
        ? z.polygon.map((p) => sourceToSnapshot(p, geometry.lb, geometry.snap))
        : null,
      occupancy: occupancy ? { count: inside?.trackIds.length ?? 0, trackIds: inside?.trackIds ?? [] } : null,
    };
  });
}

const round1 = (v: number) => Math.round(v * 10) / 10;
