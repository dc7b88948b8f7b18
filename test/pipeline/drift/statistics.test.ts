import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BinSpec, Histogram, binCount } from '../../../pipeline/drift/histogram.js';
import {
  binsVersion,
  frameStatSpecs,
  imageStatSpecs,
  isPerFrameCount,
  keyedStatNames,
  labelStatName,
  labelStatSpecs,
  matchesPattern,
} from '../../../pipeline/drift/statistics.js';
import { repoRoot } from '../../support/shared.js';

const driftDoc = readFileSync(path.join(repoRoot, 'docs', 'drift.md'), 'utf8');

/** The statistics table of docs/drift.md: name -> its "bins" column. */
function documentedBins(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of driftDoc.matchAll(/^\| `([^`]+)`\s*\|[^|]*\|(?:[^|]|\\\|)*?\|\s*([^|]+?)\s*\|$/gm)) {
    rows.set(m[1]!, m[2]!);
  }
  return rows;
}

/** A bins column read as a spec, worked out from the words alone ("32 linear over 0–256, soft"). */
function specFromWords(words: string, previous: BinSpec | undefined): BinSpec | 'keyed' {
  const num = (s: string) => Number(s.replace('−', '-'));
  const range = /^(\d+) (linear|log) over ([−\d.e-]+)–([\d.e-]+)(?: ms)?, soft$/.exec(words);
  if (range) {
    const [, bins, kind, lo, hi] = range;
    return { kind: kind as 'linear' | 'log', lo: num(lo!), hi: num(hi!), bins: Number(bins), soft: true };
  }
  const edges = /^edges (.+)\+$/.exec(words);
  if (edges) {
    // "0,1,2,…,8,10,…": the ellipsis stands for every integer between its neighbours.
    const parts = edges[1]!.split(',');
    const lower: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === '…') {
        for (let v = lower.at(-1)! + 1; v < Number(parts[i + 1]); v++) lower.push(v);
      } else lower.push(Number(parts[i]));
    }
    return { kind: 'edges', lower };
  }
  if (words === '48 cells, unordered') return { kind: 'cells', cols: 8, rows: 6 };
  if (words === 'as above') return previous!;
  if (words === 'keyed counts, unordered') return 'keyed';
  throw new Error(`cannot read bins "${words}"`);
}

function codeSpecOf(name: string): BinSpec | 'keyed' | undefined {
  if ((keyedStatNames as readonly string[]).includes(name)) return 'keyed';
  const label = /^det\.(\w+)\[L\]$/.exec(name);
  if (label) return labelStatSpecs[label[1] as keyof typeof labelStatSpecs];
  return (
    (imageStatSpecs as Record<string, BinSpec>)[name] ?? (frameStatSpecs as Record<string, BinSpec>)[name]
  );
}

describe('statistics catalogue', () => {
  it('has the bins of every statistic in the docs/drift.md table, and no statistic the table lacks', () => {
    const rows = documentedBins();
    expect(rows.size).toBe(17);
    let previous: BinSpec | undefined;
    for (const [name, words] of rows) {
      const documented = specFromWords(words, previous);
      if (documented !== 'keyed') previous = documented;
      expect(codeSpecOf(name), `${name}: docs say "${words}"`).toEqual(documented);
    }
    const inCode = [
      ...Object.keys(imageStatSpecs),
      ...Object.keys(labelStatSpecs).map((k) => `det.${k}[L]`),
      ...Object.keys(frameStatSpecs),
      ...keyedStatNames,
    ].sort();
    expect(inCode).toEqual([...rows.keys()].sort());
  });

  it('is at the bins version the docs name, and every spec is a valid BinSpec', () => {
    expect(binsVersion).toBe(Number(/carries `binsVersion` \(now (\d+)\)/.exec(driftDoc)![1]));
    const specs: BinSpec[] = [
      ...Object.values(imageStatSpecs),
      ...Object.values(labelStatSpecs),
      ...Object.values(frameStatSpecs),
    ];
    for (const spec of specs) {
      expect(BinSpec.safeParse(spec).success).toBe(true);
      if (spec.kind === 'linear' || spec.kind === 'log') expect(spec.lo).toBeLessThan(spec.hi);
    }
  });

  it('puts values where the table says: bin width, edges, clamping', () => {
    // brightness: 32 bins over 0–256, 8 levels each; a value at a bin centre lands wholly in that bin
    const b = new Histogram(imageStatSpecs['image.brightness']);
    b.add(8 * 5 + 4);
    expect(b.counts[5]).toBe(1);
    // halfway between the centres of bins 5 and 6: split evenly (soft)
    const b2 = new Histogram(imageStatSpecs['image.brightness']);
    b2.add(48);
    expect([b2.counts[5], b2.counts[6]]).toEqual([0.5, 0.5]);
    // share bins are 2 % wide: 0.11 is the centre of bin 5
    const s = new Histogram(imageStatSpecs['image.dark']);
    s.add(0.11);
    expect(s.counts[5]).toBeCloseTo(1, 12);
    // det.area: log bins, equal in ln v over 1e-4–1; a value at the centre of bin 7 (in ln v)
    const sh = labelStatSpecs.area;
    if (sh.kind !== 'log') throw new Error('det.area: log bins, says the table');
    const width = (Math.log(sh.hi) - Math.log(sh.lo)) / sh.bins;
    const a = new Histogram(labelStatSpecs.area);
    a.add(Math.exp(Math.log(sh.lo) + 7.5 * width));
    expect(a.counts[7]).toBeCloseTo(1, 12);
    // per-frame edges: 9 is in [8, 10), 10 in [10, 12), 49 in [40, 50), 50 and above in the last bin
    const p = new Histogram(frameStatSpecs['det.perFrame']);
    for (const v of [0, 1, 9, 10, 49, 50, 1000]) p.add(v);
    const lower = frameStatSpecs['det.perFrame'].lower;
    const at = (bound: number) => p.counts[lower.indexOf(bound)];
    expect([at(0), at(1), at(8), at(10), at(40), at(50)]).toEqual([1, 1, 1, 1, 1, 2]);
    expect(binCount(frameStatSpecs['det.perFrame'])).toBe(17);
    // position: 8 × 6 cells
    expect(binCount(labelStatSpecs.position)).toBe(48);
  });

  it('names per-label statistics det.<kind>[<label>]', () => {
    expect(labelStatName('score', 'person')).toBe('det.score[person]');
    expect(labelStatName('perFrame', 'fork lift')).toBe('det.perFrame[fork lift]');
  });

  it('tells per-frame counts (stored without their zero bin) from everything else', () => {
    expect(isPerFrameCount('det.perFrame')).toBe(true);
    expect(isPerFrameCount(labelStatName('perFrame', 'car'))).toBe(true);
    for (const name of [
      'det.perFrames',
      'det.perFrameX[car]',
      'det.score[car]',
      'det.position[perFrame]',
      'x.det.perFrame',
      'image.dark',
      'det.labels',
    ]) {
      expect(isPerFrameCount(name), name).toBe(false);
    }
  });

  it('matches statistic names exactly, or by a prefix ending in *', () => {
    expect(matchesPattern('image.dark', 'image.*')).toBe(true);
    expect(matchesPattern('image.dark', 'image.dark')).toBe(true);
    expect(matchesPattern('image.darkness', 'image.dark')).toBe(false);
    expect(matchesPattern('image.dar', 'image.dark')).toBe(false);
    expect(matchesPattern('det.score[car]', 'image.*')).toBe(false);
    expect(matchesPattern('xx.image.dark', 'image.*')).toBe(false);
    expect(matchesPattern('det.perFrame', 'det.perFrame*')).toBe(true);
    expect(matchesPattern('det.perFrame[car]', 'det.perFrame*')).toBe(true);
    expect(matchesPattern('anything', '*')).toBe(true);
    // without the star a prefix is not a pattern
    expect(matchesPattern('image.dark', 'image.')).toBe(false);
    // a star elsewhere is literal
    expect(matchesPattern('image.dark', 'image.*.x')).toBe(false);
    expect(matchesPattern('image.*.x', 'image.*.x')).toBe(true);
    expect(matchesPattern('image.*.y', 'image.*.x')).toBe(false);
  });
});
