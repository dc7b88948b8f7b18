import { describe, expect, it } from 'vitest';
import { formatValue, MetricsRegistry } from '../../../agent/web/metrics-registry.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

describe('MetricsRegistry: Prometheus text exposition 0.0.4', () => {
  it('writes counters, gauges and histograms that a strict parser reads back exactly', () => {
    const r = new MetricsRegistry();
    const c = r.counter('t_requests_total', 'Requests.\nSecond line with a \\ backslash.', ['route']);
    const g = r.gauge('t_depth', 'Depth.');
    const h = r.histogram('t_latency_seconds', 'Latency.', [0.1, 0.5, 1], ['camera']);
    const tricky = 'a "quoted"\\path\nnext';
    c.inc({ route: '/' });
    c.inc({ route: '/' }, 2);
    c.inc({ route: tricky });
    g.set({}, -1.5);
    for (const v of [0.05, 0.1, 0.3, 0.7, 3]) h.observe({ camera: 'yard' }, v);

    const f = parsePrometheusText(r.expose());
    expect(f.get('t_requests_total')).toMatchObject({ type: 'counter' });
    expect(f.get('t_requests_total')!.help).toBe('Requests.\nSecond line with a \\ backslash.');
    expect(sampleValue(f, 't_requests_total', { route: '/' })).toBe(3);
    expect(sampleValue(f, 't_requests_total', { route: tricky })).toBe(1);
    expect(sampleValue(f, 't_depth')).toBe(-1.5);
    // le is inclusive: 0.1 falls in the 0.1 bucket.
    expect(sampleValue(f, 't_latency_seconds_bucket', { camera: 'yard', le: '0.1' })).toBe(2);
    expect(sampleValue(f, 't_latency_seconds_bucket', { camera: 'yard', le: '0.5' })).toBe(3);
    expect(sampleValue(f, 't_latency_seconds_bucket', { camera: 'yard', le: '1' })).toBe(4);
    expect(sampleValue(f, 't_latency_seconds_bucket', { camera: 'yard', le: '+Inf' })).toBe(5);
    expect(sampleValue(f, 't_latency_seconds_count', { camera: 'yard' })).toBe(5);
    expect(sampleValue(f, 't_latency_seconds_sum', { camera: 'yard' })).toBeCloseTo(4.15, 10);
  });

  it('collectors run at each exposition, so mirrored counters move between scrapes', () => {
    const r = new MetricsRegistry();
    const frames = r.counter('t_frames_total', 'Frames.', ['camera']);
    let n = 0;
    r.onCollect(() => frames.set({ camera: 'yard' }, (n += 10)));
    const a = sampleValue(parsePrometheusText(r.expose()), 't_frames_total', { camera: 'yard' });
    const b = sampleValue(parsePrometheusText(r.expose()), 't_frames_total', { camera: 'yard' });
    expect([a, b]).toEqual([10, 20]);
  });

  it('refuses names Prometheus would refuse, counters that go down and missing labels', () => {
    const r = new MetricsRegistry();
    expect(() => r.counter('t_frames', 'no _total')).toThrow(/_total/);
    expect(() => r.gauge('1bad', 'x')).toThrow(/metric name/);
    expect(() => r.gauge('t_ok', 'x', ['le'])).toThrow(/label name/);
    expect(() => r.gauge('t_ok2', 'x', ['__x'])).toThrow(/label name/);
    r.gauge('t_dup', 'x');
    expect(() => r.gauge('t_dup', 'x')).toThrow(/twice/);
    const c = r.counter('t_c_total', 'x', ['camera']);
    expect(() => c.inc({ camera: 'a' }, -1)).toThrow(/only goes up/);
    expect(() => c.inc({})).toThrow(/missing/);
  });

  it('spells the special values as Go reads them', () => {
    expect([NaN, Infinity, -Infinity, 1e-7, 0.1].map(formatValue)).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      '1e-7',
      '0.1',
    ]);
  });

  it('the test parser itself rejects malformed expositions', () => {
    const bad = [
      'x_total 1\n', // no TYPE
      '# TYPE x counter\nx{a="1} 1\n', // unterminated
      '# TYPE x counter\nx{a="\\q"} 1\n', // bad escape
      '# TYPE x gauge\nx one\n', // bad value
      '# TYPE x gauge\nx 1\nx 2\n', // duplicate series
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      '# TYPE x gauge\nx 1', // no final newline
    ];
    for (const text of bad) expect(() => parsePrometheusText(text), text).toThrow();
  });
});
