import { ago, bytes, clock, duration, fixed, h, meter, pill, rows } from './dom.js';
import { levelText, worstAir } from './air-panel.js';

export { air } from './air-panel.js';

const title = (id, text, extra) => h('div', { class: 'tile-head' }, h('h2', { id }, text), extra ?? null);

/** Cameras the config turns on: the banner and the Cameras KPI count the same ones. */
const enabledCameras = (status) => status.cameras.filter((c) => c.state.reason !== 'disabled in config');

export function overallText(status) {
  const enabled = enabledCameras(status);
  const streaming = enabled.filter((c) => c.state.state === 'streaming').length;
  if (status.overall === 'ok')
    return enabled.length === 1 ? 'The camera is streaming' : `All ${enabled.length} cameras streaming`;
  const bad = enabled
    .filter((c) => c.state.state !== 'streaming')
    .map((c) => `${c.name ?? c.id} ${c.state.state}`);
  return `${streaming} of ${enabled.length} camera${enabled.length === 1 ? '' : 's'} streaming — ${bad.join(', ')}`;
}

export function kpis(status) {
  const kpi = (label, value, sub, level) =>
    h(
      'div',
      { class: 'kpi', dataset: { level: level ?? 'idle' } },
      h('div', { class: 'label' }, label),
      h('div', { class: 'value' }, value),
      h('div', { class: 'sub' }, sub),
    );
  const enabled = enabledCameras(status);
  const streaming = enabled.filter((c) => c.state.state === 'streaming').length;
  const off = status.cameras.length - enabled.length;
  const fps = status.cameras.reduce((a, c) => a + c.fps.processed, 0);
  const m = status.mqtt;
  const hl = status.health;
  const pm = worstAir(status);
  return [
    kpi(
      'Cameras',
      `${streaming}/${enabled.length}`,
      off ? `streaming · ${off} disabled` : 'streaming',
      status.overall === 'ok' ? 'ok' : status.overall === 'down' ? 'bad' : 'warn',
    ),
    kpi('Processed', `${fixed(fps)} fps`, 'all cameras'),
    kpi(
      'MQTT',
      m.configured ? (m.state ?? 'starting') : 'off',
      m.configured ? `${status.outbox.rows} waiting` : 'not configured',
      !m.configured ? 'idle' : m.state === 'connected' ? 'ok' : 'warn',
    ),
    kpi(
      'CPU',
      hl.cpuPercent === null ? '—' : `${Math.round(hl.cpuPercent)} %`,
      `load ${fixed(hl.load1, 2)} · ${hl.cores} cores`,
      hl.cpuPercent >= 90 ? 'warn' : 'idle',
    ),
    kpi(
      'Temperature',
      hl.temperatureC === null ? '—' : `${Math.round(hl.temperatureC)} °C`,
      hl.gpu ? `GPU ${Math.round(hl.gpu.loadPercent)} %` : 'hottest zone',
      hl.temperatureC >= 85 ? 'bad' : hl.temperatureC >= 75 ? 'warn' : 'idle',
    ),
    kpi(
      'PM2.5',
      pm ? (pm.latest.pm25 === null ? 'n/a' : `${fixed(pm.latest.pm25)}`) : '—',
      pm
        ? pm.latest.level
          ? `µg/m³ · ${levelText(pm.latest)}`
          : 'µg/m³ · not estimable'
        : status.cameras.some((c) => c.pm25Waiting)
          ? 'waiting for the first window'
          : 'not configured',
      pm?.latest.level?.tone,
    ),
  ];
}

export function link(status) {
  const m = status.mqtt;
  const o = status.outbox;
  const level = !m.configured ? 'idle' : m.state === 'connected' ? 'ok' : 'warn';
  const drops = Object.entries(o.drops).filter(([, n]) => n > 0);
  return [
    title('link-title', 'MQTT link', pill(m.configured ? (m.state ?? 'starting') : 'not configured', level)),
    rows([
      ['Broker', m.url ?? '—'],
      m.since ? ['Since', ago(m.since, status.ts)] : undefined,
      m.configured ? ['Published / acked', `${m.published ?? 0} / ${m.acked ?? 0}`] : undefined,
      m.rejected ? ['Refused by broker', String(m.rejected)] : undefined,
      m.latencyMs ? ['Publish latency', `${fixed(m.latencyMs.avg)} ms avg`] : undefined,
      m.lastError ? ['Last error', `${m.lastError.message} (${ago(m.lastError.at, status.ts)})`] : undefined,
      ['Outbox', `${o.rows} waiting · ${bytes(o.bytes)}`],
      o.rows ? ['Oldest waiting', duration(o.oldestAgeMs)] : undefined,
      ['Dropped', drops.length ? drops.map(([r, n]) => `${n} ${r}`).join(', ') : 'none'],
    ]),
  ];
}

export function device(status) {
  const hl = status.health;
  const pct = (a, b) => (b ? (a / b) * 100 : null);
  return [
    title(
      'device-title',
      'Device health',
      hl.sampledAt ? h('span', { class: 'muted' }, `sampled ${ago(hl.sampledAt, status.ts)}`) : null,
    ),
    meter('CPU', hl.cpuPercent === null ? '—' : `${Math.round(hl.cpuPercent)} %`, hl.cpuPercent),
    meter(
      'Memory',
      hl.memory ? `${bytes(hl.memory.usedBytes)} of ${bytes(hl.memory.totalBytes)}` : '—',
      hl.memory ? pct(hl.memory.usedBytes, hl.memory.totalBytes) : null,
    ),
    meter(
      'Disk (data)',
      hl.disk ? `${bytes(hl.disk.usedBytes)} of ${bytes(hl.disk.totalBytes)}` : '—',
      hl.disk ? pct(hl.disk.usedBytes, hl.disk.totalBytes) : null,
      80,
      95,
    ),
    meter(
      'Temperature',
      hl.temperatureC === null ? 'not readable' : `${fixed(hl.temperatureC)} °C`,
      hl.temperatureC === null ? null : hl.temperatureC,
      75,
      85,
    ),
    hl.gpu ? meter(`GPU (${hl.gpu.name})`, `${Math.round(hl.gpu.loadPercent)} %`, hl.gpu.loadPercent) : null,
    rows([
      ['GPU', hl.gpu ? undefined : 'none found'],
      ['Agent process', `${bytes(hl.process.rssBytes)} · ${fixed(hl.process.cpuPercent)} % CPU`],
      ['Event-loop lag', `p99 ${fixed(hl.eventLoopLagMs.p99)} ms`],
    ]),
  ];
}

export function config(status) {
  const push = status.fleet?.lastPush;
  return [
    title('config-title', 'Configuration'),
    rows([
      [
        'Revision',
        `${status.config.revision} (${status.config.source === 'fleet' ? 'from the fleet' : 'local file'})`,
      ],
      [
        'Fleet push',
        !status.fleet || (!push && status.config.source !== 'fleet')
          ? 'not managed by a fleet'
          : push
            ? `${push.result} ${ago(push.at, status.ts)}${push.message ? `: ${push.message}` : ''}`
            : 'none yet',
      ],
      ...status.models.map((m) => [
        `Model ${m.id}`,
        h(
          'span',
          { title: m.refused.map((r) => `${r.provider}: ${r.reason}`).join('\n') || null },
          `${m.family} ${m.input.width}×${m.input.height} on ${m.provider}, ${m.workers} worker${m.workers === 1 ? '' : 's'}`,
          m.refused.length
            ? h('span', { class: 'muted' }, ` (${m.refused.map((r) => r.provider).join(', ')} unavailable)`)
            : null,
        ),
      ]),
    ]),
  ];
}

export function errors(status) {
  return [
    title(
      'errors-title',
      'Recent errors',
      status.errors.length ? pill(String(status.errors.length), 'warn') : pill('none', 'ok'),
    ),
    status.errors.length
      ? h(
          'ul',
          { class: 'errors-list' },
          status.errors
            .slice(0, 30)
            .map((e) =>
              h(
                'li',
                {},
                h('span', { class: 'muted num' }, clock(e.at)),
                pill(
                  e.camera ? `${e.source} · ${e.camera}` : e.source,
                  e.source === 'camera' ? 'warn' : 'bad',
                ),
                h('span', { class: 'msg' }, e.message, e.count > 1 ? ` (×${e.count})` : ''),
              ),
            ),
        )
      : h('p', { class: 'muted' }, 'No errors since the agent started.'),
  ];
}

export function footer(status) {
  return [
    h('span', {}, `Vigil ${status.version}`),
    h('span', {}, `up ${duration(status.uptimeS * 1000)}`),
    h('a', { href: '/api/status' }, 'status JSON'),
    h('a', { href: '/metrics' }, 'metrics'),
    h('a', { href: '/readyz' }, 'readiness'),
  ];
}
