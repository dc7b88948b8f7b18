import { ago, clock, h, pill } from './dom.js';

const typeWords = {
  zone_enter: 'entered zone',
  zone_leave: 'left zone',
  zone_dwell: 'stayed in zone',
  zone_count: 'count in zone',
  person_near_forklift: 'person near forklift',
};
const severityLevel = { low: 'warn', medium: 'warn', high: 'bad' };
const endWords = {
  left: 'left',
  cleared: 'cleared',
  'track-lost': 'lost from view',
  'below-max': 'back under the limit',
  stopped: 'camera stopped',
  interrupted: 'agent stopped unexpectedly',
};

/** Recent safety events (newest first), each with its snapshot when one was taken. */
export function safetyPanel(status) {
  const events = status.safetyEvents ?? [];
  const zones = status.cameras.reduce((n, c) => n + (c.zones?.length ?? 0), 0);
  const head = h(
    'div',
    { class: 'tile-head' },
    h('h2', { id: 'safety-title' }, 'Safety events'),
    events.length ? pill(String(events.length), 'warn') : pill('none', 'ok'),
  );
  if (!events.length)
    return [
      head,
      h(
        'p',
        { class: 'muted' },
        zones ? 'No safety event since the agent started.' : 'No zones or safety rules on this box.',
      ),
    ];
  // Names as the config gives them (the ids are what MQTT carries; a person on site knows the names).
  const cameras = new Map(status.cameras.map((c) => [c.id, c]));
  const zoneName = (e) => cameras.get(e.camera)?.zones?.find((z) => z.id === e.zone)?.name ?? e.zone;
  // Each line shows when its event started: newest start first, so the times read in order.
  const newest = [...events].sort((a, b) => b.start - a.start);
  return [
    head,
    h(
      'ul',
      { class: 'errors-list safety-list' },
      newest.slice(0, 20).map((e) => {
        const open = e.end === null;
        const what = `${typeWords[e.type] ?? e.type}${e.zone ? ` ${zoneName(e)}` : ''}`;
        const who = `${e.labels.join(', ')} (track ${e.trackIds.join(', ')})`;
        const when = open
          ? `since ${ago(e.start, status.ts)}`
          : `ended${e.endReason ? `: ${endWords[e.endReason] ?? e.endReason}` : ''}`;
        return h(
          'li',
          { dataset: { event: e.eventId, camera: e.camera } },
          h('span', { class: 'muted num' }, clock(e.start)),
          pill(
            `${cameras.get(e.camera)?.name ?? e.camera}${e.severity ? ` · ${e.severity}` : ''}`,
            open ? (severityLevel[e.severity] ?? 'warn') : 'idle',
          ),
          h('span', { class: 'msg' }, `${what} — ${who}, ${when}`),
          e.snapshot
            ? h(
                'a',
                // Five links all named "snapshot" say nothing in a screen reader's list of links.
                {
                  href: e.snapshot,
                  target: '_blank',
                  rel: 'noopener',
                  'aria-label': `snapshot: ${what} — ${who}, ${clock(e.start)}`,
                },
                'snapshot',
              )
            : h('span', { class: 'muted' }, 'no snapshot'),
        );
      }),
    ),
  ];
}
