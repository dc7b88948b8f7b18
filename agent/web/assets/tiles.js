import { ago, fill, fixed, h, labelColour, pill, stateWords } from './dom.js';
import { drawZones, zoneOverlay } from './zones.js';

/**
 * One tile per camera. The tile element and its <img> persist across updates (so the picture never
 * flickers); the text under it is rebuilt from each status.
 */
export class CameraTiles {
  constructor(container) {
    this.container = container;
    this.tiles = new Map();
  }

  update(status) {
    const ids = new Set(status.cameras.map((c) => c.id));
    for (const [id, tile] of this.tiles) {
      if (!ids.has(id)) {
        tile.el.remove();
        this.tiles.delete(id);
      }
    }
    for (const cam of status.cameras) {
      const tile = this.tiles.get(cam.id) ?? this.create(cam);
      this.container.append(tile.el); // keeps config order
      this.fill(tile, cam, status.ts);
      tile.cam = cam;
      drawZones(tile.zones, cam, !tile.img.hidden);
    }
    if (!status.cameras.length)
      this.container.replaceChildren(h('p', { class: 'muted' }, 'No cameras configured.'));
  }

  /** Logged out: no picture of the site stays on the screen. */
  clear() {
    this.tiles.clear();
    this.container.replaceChildren();
  }

  create(cam) {
    const img = h('img', { alt: `Latest annotated frame from ${cam.name ?? cam.id}`, hidden: true });
    const empty = h('div', { class: 'frame-empty' }, 'Waiting for the first processed frame…');
    const badge = h('span', { class: 'badge' });
    const age = h('span', { class: 'age', hidden: true });
    const body = h('div', { class: 'tile-body' });
    const zones = zoneOverlay();
    const el = h(
      'article',
      { class: 'tile', dataset: { camera: cam.id } },
      h('div', { class: 'frame' }, img, zones, empty, badge, age),
      body,
    );
    const tile = {
      el,
      img,
      zones,
      cam,
      empty,
      badge,
      age,
      body,
      frame: -1,
    };
    this.tiles.set(cam.id, tile);
    return tile;
  }

  fill(tile, cam, now) {
    const s = cam.state.state;
    tile.el.dataset.state = s;
    tile.badge.dataset.state = s;
    tile.badge.textContent = stateWords[s] ?? s;
    if (cam.snapshot) {
      tile.age.hidden = false;
      tile.age.textContent = `frame ${ago(cam.snapshot.ts, now)}`;
    }
    // A failed or stopped camera is not about to send a frame: say why there is no picture instead.
    tile.empty.textContent = noPicture[s] ?? noPicture.connecting;
    const title = cam.name ?? cam.id;
    const stat = (label, value, key) =>
      h('div', {}, h('dt', {}, label), h('dd', { dataset: { stat: key } }, value));
    const recent = cam.detections.recent.slice(0, 6);
    fill(
      tile.body,
      h(
        'div',
        { class: 'tile-head' },
        h('h3', {}, title),
        h('span', { class: 'muted' }, `${cam.id} · ${cam.model}`),
      ),
      cam.state.reason && s !== 'streaming'
        ? h(
            'p',
            { class: 'reason' },
            `${stateWords[s] ?? s} ${ago(cam.state.since, now)}: ${cam.state.reason}`,
          )
        : null,
      h(
        'dl',
        { class: 'stats' },
        stat('Input fps', fixed(cam.fps.input), 'input-fps'),
        stat('Processed fps', fixed(cam.fps.processed), 'processed-fps'),
        stat('Dropped', String(cam.frames.dropped), 'dropped'),
        stat('Motion-gated', String(cam.frames.gated), 'gated'),
        // No frame processed yet: no inference time to show (0 ms would read as "very fast").
        stat(
          'Inference',
          cam.frames.processed ? `${fixed(cam.inference.lastMs, 0)} ms` : '—',
          'inference-ms',
        ),
        stat('Provider', cam.inference.provider ?? '—', 'provider'),
      ),
      h(
        'div',
        { class: 'chips', dataset: { role: 'detections' } },
        h('span', { class: 'muted' }, `In view, last ${cam.detections.windowS} s:`),
        recent.length ? recent.map((d) => chip(d)) : h('span', { class: 'muted' }, 'nothing'),
      ),
      h(
        'div',
        { class: 'chips' },
        h(
          'span',
          { class: 'pair' },
          h('span', { class: 'muted' }, 'Drift'),
          cam.drift
            ? pill(cam.drift.state, { ok: 'ok', warn: 'warn', alarm: 'bad' }[cam.drift.state])
            : pill(cam.driftWaiting ? 'waiting for frames' : 'not configured'),
        ),
        // Out of `ok`, say since when and what moved: "alarm" alone tells a site lead nothing to check.
        cam.drift && cam.drift.state !== 'ok'
          ? h(
              'span',
              { class: 'muted', dataset: { role: 'drift-why' } },
              [ago(cam.drift.since, now), ...driftWords(cam.drift.drivers)].join(' · '),
            )
          : null,
        h(
          'span',
          { class: 'pair' },
          h('span', { class: 'muted' }, 'PM2.5'),
          cam.pm25
            ? pill(
                cam.pm25.latest.pm25 === null
                  ? 'not estimable'
                  : `${fixed(cam.pm25.latest.pm25)} µg/m³${cam.pm25.latest.level ? ` · ${cam.pm25.latest.level.name}` : ''}`,
                cam.pm25.latest.level?.tone ?? 'idle',
              )
            : pill(cam.pm25Waiting ? 'waiting for the first window' : 'not configured'),
        ),
      ),
    );
  }

  /** A `snapshot` event of the live stream: the camera's latest annotated frame (pushed, never fetched). */
  showSnapshot(snap) {
    const tile = this.tiles.get(snap.camera);
    if (!tile || snap.frameNo === tile.frame) return;
    tile.img.src = `data:image/jpeg;base64,${snap.jpeg}`;
    tile.frame = snap.frameNo;
    tile.img.dataset.frame = String(snap.frameNo);
    tile.img.hidden = false;
    tile.empty.hidden = true;
    drawZones(tile.zones, tile.cam, true);
  }
}

const noPicture = {
  connecting: 'Waiting for the first processed frame…',
  stalled: 'No frame has arrived yet',
  failed: 'No picture: the camera failed (reason below)',
  stopped: 'No picture: the camera is stopped',
};

/** "person 4.2 · max 7": about how many are in view, and the most seen at once. */
function chip(d) {
  const dot = h('span', { class: 'dot' });
  dot.style.background = labelColour(d.label);
  const title = `${d.perFrame} per frame on average, at most ${d.max} in one frame (${d.count} detections)`;
  return h(
    'span',
    { class: 'chip', title, dataset: { label: d.label } },
    dot,
    d.label,
    h('b', {}, fixed(d.perFrame)),
    h('span', { class: 'muted' }, `max ${d.max}`),
  );
}

/** The statistics that drove a drift state, in words, the first three: `image.brightness` → brightness. */
function driftWords(drivers) {
  const words = drivers.slice(0, 3).map((d) => d.replace(/^image\./, '').replace(/^det\./, 'detections '));
  return drivers.length > 3
    ? [`${words.join(', ')} and ${drivers.length - 3} more`]
    : words.length
      ? [words.join(', ')]
      : [];
}
