/**
 * A small Prometheus registry: counters, gauges and histograms with labels, written in the text exposition
 * format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/). Just what /metrics needs,
 * instead of a dependency.
 */

export type Labels = Readonly<Record<string, string>>;

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Go's ParseFloat reads JavaScript's shortest round-trip form; only the infinities and NaN are spelt out. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** A series' labels as written inside its braces (`camera="a",model="b"`), built once per series. */
interface Series<S> {
  labels: string;
  /** The label values by name, for retain(). */
  values: Labels;
  data: S;
}

/** `{labels}` with an extra label (a histogram's `le`) after them, or nothing when there are none. */
function braces(labels: string, extra = ''): string {
  const all = labels && extra ? `${labels},${extra}` : labels || extra;
  return all ? `{${all}}` : '';
}

abstract class Metric<S> {
  protected readonly series = new Map<string, Series<S>>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {
    if (!metricName.test(name)) throw new Error(`invalid metric name "${name}"`);
    for (const l of labelNames) {
      if (!labelName.test(l) || l.startsWith('__') || l === 'le')
        throw new Error(`invalid label name "${l}"`);
    }
  }

  protected entry(labels: Labels, init: () => S): S {
    const values = this.labelNames.map((n) => {
      const v = labels[n];
      if (v === undefined) throw new Error(`${this.name}: label "${n}" missing`);
      return v;
    });
    const key = JSON.stringify(values);
    let e = this.series.get(key);
    if (!e) {
      const labels = this.labelNames.map((n, i) => `${n}="${escapeValue(values[i]!)}"`).join(',');
      const byName = Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]!]));
      this.series.set(key, (e = { labels, values: byName, data: init() }));
    }
    return e.data;
  }

  /** Forgets every series (for gauges rebuilt at each scrape, e.g. a camera that went away). */
  reset(): void {
    this.series.clear();
  }

  /** Forgets the series `keep` says no to (a histogram's series of a camera that was removed). */
  retain(keep: (labels: Labels) => boolean): void {
    for (const [key, s] of this.series) if (!keep(s.values)) this.series.delete(key);
  }

  text(): string {
    const head = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    let out = head;
    for (const s of this.series.values()) out += this.sampleLines(s.labels, s.data);
    return out;
  }

  protected abstract sampleLines(labels: string, data: S): string;
}

export class Counter extends Metric<{ v: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    if (!name.endsWith('_total')) throw new Error(`counter "${name}" must end in _total`);
    super(name, help, labelNames, 'counter');
  }
  inc(labels: Labels = {}, n = 1): void {
    if (!(n >= 0)) throw new Error(`${this.name}: a counter only goes up`);
    this.entry(labels, () => ({ v: 0 })).v += n;
  }
  /** Mirrors a count kept elsewhere; a lower value reads as a counter reset, which Prometheus handles. */
  set(labels: Labels, v: number): void {
    this.entry(labels, () => ({ v: 0 })).v = v;
  }
  protected sampleLines(labels: string, d: { v: number }): string {
    return `${this.name}${braces(labels)} ${formatValue(d.v)}\n`;
  }
}

export class Gauge extends Metric<{ v: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, 'gauge');
  }
  set(labels: Labels, v: number): void {
    this.entry(labels, () => ({ v: 0 })).v = v;
  }
  protected sampleLines(labels: string, d: { v: number }): string {
    return `${this.name}${braces(labels)} ${formatValue(d.v)}\n`;
  }
}

interface HistogramData {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramData> {
  readonly buckets: readonly number[];
  constructor(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []) {
    super(name, help, labelNames, 'histogram');
    const sorted = [...new Set(buckets)].filter((b) => Number.isFinite(b)).sort((a, b) => a - b);
    if (!sorted.length) throw new Error(`${name}: no buckets`);
    this.buckets = sorted;
    this.le = [...sorted.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"'];
  }
  /** The buckets' `le` labels, written once; the last is +Inf. */
  private readonly le: string[];
  observe(labels: Labels, v: number): void {
    const d = this.entry(labels, () => ({
      counts: new Array<number>(this.buckets.length + 1).fill(0),
      sum: 0,
      count: 0,
    }));
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]!) i++;
    d.counts[i]!++;
    d.sum += v;
    d.count++;
  }
  protected sampleLines(labels: string, d: HistogramData): string {
    let out = '';
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += d.counts[i]!;
      out += `${this.name}_bucket${braces(labels, this.le[i])} ${cumulative}\n`;
    }
    out += `${this.name}_bucket${braces(labels, this.le[this.buckets.length])} ${d.count}\n`;
    out += `${this.name}_sum${braces(labels)} ${formatValue(d.sum)}\n`;
    out += `${this.name}_count${braces(labels)} ${d.count}\n`;
    return out;
  }
}

interface Exposable {
  readonly name: string;
  text(): string;
}

/** Metrics in registration order; collectors refresh mirrored values just before each exposition. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Exposable>();
  private readonly collectors: (() => void)[] = [];

  register<M extends Exposable>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric "${metric.name}" registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.register(new Gauge(name, help, labelNames));
  }
  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
  ): Histogram {
    return this.register(new Histogram(name, help, buckets, labelNames));
  }
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /** The text exposition; serve it as `text/plain; version=0.0.4; charset=utf-8`. */
  expose(): string {
    for (const c of this.collectors) c();
    return [...this.metrics.values()].map((m) => m.text()).join('');
  }
}

export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';
