import { ago, clock, fixed, h, pill, rows } from './dom.js';
import { pm25Chart } from './pm25-chart.js';

const title = (id, text, extra) => h('div', { class: 'tile-head' }, h('h2', { id }, text), extra ?? null);

/** The camera whose estimate is highest: the figure that answers "is the air bad?" (else the first). */
export function worstAir(status) {
  const all = status.cameras.filter((c) => c.pm25).map((c) => c.pm25);
  const valued = all.filter((p) => p.latest.pm25 !== null);
  return valued.length ? valued.reduce((a, b) => (b.latest.pm25 > a.latest.pm25 ? b : a)) : all[0];
}

/**
 * "moderate", "moderate (80 %: good to unhealthy)" when the interval reaches other levels, and
 * "…, uncalibrated" while no sensor has calibrated the estimate: a level is never firmer than its estimate.
 */
export function levelText(latest) {
  const { name, band80: b } = latest.level;
  const reach =
    !b || (b.low === name && b.high === name)
      ? ''
      : ` (80 %: ${b.low === b.high ? b.low : `${b.low} to ${b.high}`})`;
  return `${name}${reach}${latest.source === 'site-model' ? '' : ', uncalibrated'}`;
}

export function air(status) {
  const cams = status.cameras.filter((c) => c.pm25);
  const head = title('air-title', 'Air quality (PM2.5)');
  if (!cams.length) {
    const waiting = status.cameras.some((c) => c.pm25Waiting);
    return [
      head,
      h(
        'p',
        { class: 'muted' },
        waiting
          ? 'PM2.5 is configured: waiting for the first window.'
          : 'PM2.5 estimation is not configured on this box.',
      ),
    ];
  }
  return [
    head,
    cams.map((c) => {
      const l = c.pm25.latest;
      const flags = Object.entries(l.flags);
      const interval = (i) => (i ? `${fixed(i[0])}–${fixed(i[1])}` : '—');
      return h(
        'div',
        { class: 'air-camera', dataset: { camera: c.id } },
        h(
          'div',
          { class: 'tile-head' },
          h('h3', {}, c.name ?? c.id),
          h('span', { class: 'muted' }, `${l.windowMinutes} min window · ${clock(l.ts)}`),
        ),
        h(
          'div',
          {},
          h('span', { class: 'pm-value' }, l.pm25 === null ? 'not estimable' : fixed(l.pm25)),
          l.pm25 === null ? null : h('span', { class: 'muted' }, ' µg/m³ '),
          l.level ? pill(l.level.name, l.level.tone) : null,
        ),
        rows([
          l.level
            ? [
                'Level',
                `${levelText(l)} · the categories are for 24-hour means, this is a ${l.windowMinutes} min window`,
              ]
            : undefined,
          ['80 % interval', interval(l.interval80)],
          ['95 % interval', interval(l.interval95)],
          [
            'Model',
            l.source === 'site-model'
              ? 'calibrated to this site'
              : l.source === 'physical-prior'
                ? 'physical prior (uncalibrated, wide)'
                : '—',
          ],
          ['Calibration', calibrationText(c.pm25.calibration, status.ts)],
          ['Sensor readings', sensorText(c.pm25.reference)],
          ['Last reading', lastReadingText(c.pm25.reference?.last, status.ts)],
        ]),
        h(
          'div',
          { class: 'chips' },
          h('span', { class: 'muted' }, 'Quality flags:'),
          flags.length
            ? flags.map(([f, n]) => pill(`${f} ×${n}`, 'warn'))
            : h('span', { class: 'muted' }, 'none'),
        ),
        pm25Chart(c.pm25.history, status.ts, `PM2.5 at ${c.name ?? c.id} over the last 24 hours`),
      );
    }),
  ];
}

const pairs = (n) => `${n} sensor pair${n === 1 ? '' : 's'}`;

/** "calibrated · 48 sensor pairs · fitted 12 min ago": how far the site model has got, from the latest window. */
export function calibrationText(calibration, now) {
  if (!calibration) return undefined;
  const { state, samples, lastRefit } = calibration;
  if (state === 'uncalibrated' && samples === 0) return 'uncalibrated: no sensor readings paired yet';
  return `${state} · ${pairs(samples)}${lastRefit ? ` · fitted ${ago(lastRefit, now)}` : ''}`;
}

/** A path or topic that may break after each "/", not in the middle of a name. */
const breakable = (text) =>
  h(
    'span',
    { class: 'topic' },
    text.split('/').flatMap((part, i) => (i ? ['/', h('wbr'), part] : [part])),
  );

/** What arrived from the sensor since start, where it is expected, or why nothing can arrive. */
export function sensorText(reference) {
  if (!reference) return 'no MQTT link and no reference CSV: a sensor has no way to send readings';
  const { paired, notPaired, refused, topic, csv, csvProblem } = reference;
  return [
    `${paired} paired · ${notPaired} not paired · ${refused} refused since start`,
    topic ? [', on ', breakable(topic)] : null,
    csv ? [topic ? ' and from ' : ', from ', breakable(csv)] : null,
    csvProblem ? [' · the CSV: ', csvProblem] : null,
  ];
}

/** The last reading: its value and time, where and when it came, and what became of it (and why). */
export function lastReadingText(last, now) {
  if (!last) return undefined;
  const received =
    last.via === 'csv'
      ? `read from the CSV ${ago(last.receivedAt, now)}`
      : `received ${ago(last.receivedAt, now)}`;
  if (last.outcome === 'refused')
    return `${last.via === 'csv' ? 'a line' : 'a message'} ${received}, refused: ${last.reason ?? 'no reason given'}`;
  const what = `${fixed(last.pm25)} µg/m³ for ${clock(last.ts)}, ${received}`;
  return last.outcome === 'paired'
    ? `${what}, paired`
    : `${what}, not paired: ${last.reason ?? 'no reason given'}`;
}
