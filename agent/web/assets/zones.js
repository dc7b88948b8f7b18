/* global document */

// The zone overlay on a camera tile: an SVG laid exactly over the snapshot. Its viewBox is the JPEG's own
// pixels and it scales like the <img> (object-fit: contain ⇔ xMidYMid meet), so the polygons the agent
// mapped through the letterbox (`zones[].snapshotPolygon`) stay on the picture however the tile is sized.

const ns = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}) {
  const e = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export function zoneOverlay() {
  return el('svg', { class: 'zones', preserveAspectRatio: 'xMidYMid meet', 'aria-hidden': 'true' });
}

/** Redraws `svg` for `cam` (a CameraStatus); hidden when there is no zone or no picture yet. */
export function drawZones(svg, cam, pictureShown) {
  const zones = (cam.zones ?? []).filter((z) => z.snapshotPolygon);
  svg.replaceChildren();
  if (!zones.length || !cam.snapshot || !pictureShown) {
    svg.setAttribute('hidden', '');
    return;
  }
  svg.removeAttribute('hidden');
  svg.setAttribute('viewBox', `0 0 ${cam.snapshot.width} ${cam.snapshot.height}`);
  const unit = Math.max(cam.snapshot.width, cam.snapshot.height) / 100;
  for (const z of zones) {
    const count = z.occupancy?.count;
    const g = el('g', { class: 'zone', 'data-zone': z.id, 'data-occupied': count ? 'yes' : 'no' });
    const points = z.snapshotPolygon.map(([x, y]) => `${x},${y}`).join(' ');
    g.append(el('polygon', { points, 'stroke-width': unit * 0.4 }));
    const [x, y] = topLeft(z.snapshotPolygon);
    const label = el('text', { x: x + unit, y: y + unit * 3.2, 'font-size': unit * 3 });
    label.textContent = `${z.name ?? z.id}${count === undefined ? '' : ` · ${count} inside`}`;
    g.append(label);
    svg.append(g);
  }
}

/** The vertex nearest the top-left corner: where the zone's name goes. */
function topLeft(points) {
  return points.reduce((best, p) => (p[0] + p[1] < best[0] + best[1] ? p : best));
}
