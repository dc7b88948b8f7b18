import { ago, clock, h, pill } from './dom.js';

const typeWords = {
  zone_enter: 'entered zone',
  zone_leave: 'left zone',
  zone_dwell: 'stayed in zone',
  zone_count: 'count in zone',
  person_near_forklift: 'person near forklift',
};
const severityLevel = { low: 'warn', medium: 'warn', high: 'bad' };

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
  return [
    head,
    h(
      'ul',
      { class: 'errors-list safety-list' },
      events.slice(0, 20).map((e) => {
        const open = e.end === null;
        const what = `${typeWords[e.type] ?? e.type}${e.zone ? ` ${e.zone}` : ''}`;
        const who = `${e.labels.join(', ')} (track ${e.trackIds.join(', ')})`;
        const when = open
          ? `since ${ago(e.start, status.ts)}`
          : `ended${e.endReason ? `: ${e.endReason}` : ''}`;
        return h(
          'li',
          { dataset: { event: e.eventId, camera: e.camera } },
          h('span', { class: 'muted num' }, clock(e.start)),
          pill(
            `${e.camera}${e.severity ? ` · ${e.severity}` : ''}`,
            open ? (severityLevel[e.severity] ?? 'warn') : 'idle',
          ),
          h('span', { class: 'msg' }, `${what} — ${who}, ${when}`),
          e.snapshot
            ? h('a', { href: e.snapshot, target: '_blank', rel: 'noopener' }, 'snapshot')
            : h('span', { class: 'muted' }, 'no snapshot'),
        );
      }),
    ),
  ];
}
