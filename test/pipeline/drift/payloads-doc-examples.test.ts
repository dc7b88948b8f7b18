import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binCount, sameSpec, type BinSpec } from '../../../pipeline/drift/histogram.js';
import { DriftPayload, DriftSummaryPayload } from '../../../pipeline/drift/payloads.js';
import {
  binsVersion,
  frameStatSpecs,
  imageStatSpecs,
  isPerFrameCount,
  labelStatSpecs,
} from '../../../pipeline/drift/statistics.js';
import { repoRoot } from '../../support/shared.js';

type Json = Record<string, unknown>;
/** Marks a key to delete in an edit. */
const gone = Symbol('gone');

const mqttDoc = readFileSync(path.join(repoRoot, 'docs', 'mqtt.md'), 'utf8');
const example = (name: string): unknown => {
  const m = new RegExp('```json ' + name + '\\n([\\s\\S]*?)```').exec(mqttDoc);
  if (!m) throw new Error(`no json ${name} block in docs/mqtt.md`);
  return JSON.parse(m[1]!);
};

/** The catalogue spec of a statistic name (docs/drift.md table). */
function catalogueSpec(name: string): BinSpec | undefined {
  const label = /^det\.(\w+)\[.+\]$/.exec(name);
  if (label) return labelStatSpecs[label[1] as keyof typeof labelStatSpecs];
  return (
    (imageStatSpecs as Record<string, BinSpec>)[name] ?? (frameStatSpecs as Record<string, BinSpec>)[name]
  );
}

/** KS p-value from its textbook definition (Stephens' λ, Kolmogorov's Q), as docs/drift.md states it. */
function ksP(d: number, n: number, m: number): number {
  const ne = (n * m) / (n + m);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  let q = 0;
  for (let j = 1; j <= 100; j++) q += 2 * (-1) ** (j - 1) * Math.exp(-2 * j * j * lambda * lambda);
  return Math.min(1, Math.max(0, q));
}
describe('drift payloads: the examples in docs/mqtt.md', () => {
  const drift = DriftPayload.parse(example('drift'));
  const summary = DriftSummaryPayload.parse(example('drift-summary'));

  it('parse with their schemas and are at this agent’s bins version', () => {
    expect(drift.binsVersion).toBe(binsVersion);
    expect(drift.histograms.frames).toBe(drift.window.frames);
    expect(drift.histograms.imageFrames).toBe(drift.window.imageFrames);
  });

  it('carry histograms with the catalogue’s bins, each holding the window’s samples', () => {
    const hists = Object.entries(drift.histograms.hists);
    expect(hists.length).toBeGreaterThan(0);
    for (const [name, h] of hists) {
      const spec = catalogueSpec(name);
      expect(spec, name).toBeDefined();
      expect(sameSpec(h.spec, spec!), `${name}: bins differ from the catalogue`).toBe(true);
      expect(h.counts).toHaveLength(binCount(spec!));
      const total = h.counts.reduce((s, c) => s + c, 0);
      if (isPerFrameCount(name)) expect(total).toBeLessThanOrEqual(drift.window.frames);
      else if (name.startsWith('image.')) expect(total).toBe(drift.window.imageFrames);
    }
  });

  it('have the KS p-values the textbook formula gives for their D and sample counts', () => {
    const withKs = drift.stats.filter((s) => s.ks);
    expect(withKs.length).toBeGreaterThan(0);
    for (const s of withKs) {
      expect(s.ks!.p, s.name).toBe(Number(ksP(s.ks!.d, s.n, s.refN).toPrecision(3)));
    }
  });

  it('agree with themselves: score, drivers, significance, the summary’s top five', () => {
    expect(drift.stats.map((s) => s.name)).toEqual(drift.stats.map((s) => s.name).sort());
    for (const s of drift.stats) expect(s.significant, s.name).toBe((s.ks?.p ?? s.chi2!.p) < 0.01);
    const driving = drift.stats.filter((s) => s.drives && s.significant).map((s) => s.psi!);
    expect(drift.score).toBe(Math.max(...driving));
    const named = new Map(drift.stats.map((s) => [s.name, s]));
    expect(named.get(drift.drivers[0]!)?.psi).toBe(drift.score);
    for (const d of drift.drivers) expect(named.get(d)?.drives ?? true, d).toBe(true);
    for (const m of drift.moved) expect(named.get(m)?.drives ?? false, m).toBe(false);

    expect(summary).toMatchObject({
      camera: drift.camera,
      model: drift.model,
      configRevision: drift.configRevision,
      state: drift.state,
      stateSince: drift.stateSince,
      lastWindow: { ...drift.window, status: drift.status },
      score: drift.score,
      drivers: drift.drivers,
      moved: drift.moved,
      reference: drift.reference,
    });
    expect(summary.top.length).toBeLessThanOrEqual(5);
    const psis = summary.top.map((t) => t.psi);
    expect(psis).toEqual([...psis].sort((a, b) => b - a));
    for (const t of summary.top) {
      const s = named.get(t.name);
      if (s) expect([t.psi, t.p]).toEqual([s.psi, s.ks?.p ?? s.chi2?.p]);
    }
  });

  it('are refused when changed against the contract', () => {
    /** Whether the example still parses with `at` (a dotted path) set to `value` (or deleted). */
    const parses = (name: string, at: string, value: unknown, newKey = false) => {
      const j = example(name) as Json;
      const keys = at.split('.');
      let o = j;
      for (const k of keys.slice(0, -1)) o = o[k] as Json;
      if (!newKey) expect(Object.keys(o), `${name}: ${at} is in the example`).toContain(keys.at(-1));
      if (value === gone) delete o[keys.at(-1)!];
      else o[keys.at(-1)!] = value;
      return (name === 'drift' ? DriftPayload : DriftSummaryPayload).safeParse(j).success;
    };
    expect(parses('drift', 'stats.0.skipped', 'few-samples', true)).toBe(true);
    expect(parses('drift', 'reference', null)).toBe(true);
    expect(parses('drift', 'stats.0.ks', null)).toBe(true);
    const refused: [string, string, unknown][] = [
      ['drift', 'extra', 1],
      ['drift', 'state', 'critical'],
      ['drift', 'previousState', 'critical'],
      ['drift', 'status', 'done'],
      ['drift', 'id', ''],
      ['drift', 'ts', 1.5],
      ['drift', 'window.frames', -1],
      ['drift', 'window.imageFrames', 0.5],
      ['drift', 'stats.0.ks.p', 1.01],
      ['drift', 'stats.0.ks.d', -0.1],
      ['drift', 'stats.0.n', -1],
      ['drift', 'stats.1.chi2.df', 0],
      ['drift', 'stats.1.chi2.statistic', -1],
      ['drift', 'stats.0.skipped', 'tired'],
      ['drift', 'reference.source', 'guess'],
      ['drift', 'histograms.frames', -1],
      ['drift', 'histograms', gone],
      ['drift', 'binsVersion', gone],
      ['drift-summary', 'top.0.p', 2],
      ['drift-summary', 'top.0.psi', null],
      ['drift-summary', 'lastWindow.status', 'x'],
      ['drift-summary', 'top.0.extra', 1],
      ['drift-summary', 'stateSince', gone],
    ];
    for (const [name, at, value] of refused) {
      expect(parses(name, at, value, /(extra|skipped)$/.test(at)), `${name} ${at}`).toBe(false);
    }
  });
});
