import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, type BinSpec } from '../../../pipeline/drift/histogram.js';

const specs: BinSpec[] = [
  { kind: 'linear', lo: 0, hi: 256, bins: 32, soft: true },
  { kind: 'linear', lo: -1, hi: 1, bins: 10, soft: false },
  { kind: 'log', lo: 0.5, hi: 128, bins: 16, soft: true },
  { kind: 'edges', lower: [0, 1, 2, 5, 10] },
  { kind: 'cells', cols: 4, rows: 3 },
];

const values = fc.array(fc.double({ min: -50, max: 400, noNaN: true }), { maxLength: 60 });
const filled = (spec: BinSpec, vs: number[]) => {
  const h = new Histogram(spec);
  for (const v of vs) h.add(v);
  return h;
};

describe('fixed-bin histograms', () => {
  it('merge is associative and commutative, exactly, for every kind of bins', () => {
    for (const spec of specs) {
      fc.assert(
        fc.property(values, values, values, (a, b, c) => {
          const [ha, hb, hc] = [filled(spec, a), filled(spec, b), filled(spec, c)];
          const left = Histogram.merge(Histogram.merge(ha, hb), hc);
          const right = Histogram.merge(ha, Histogram.merge(hb, hc));
          expect([...left.counts]).toEqual([...right.counts]);
          expect([...Histogram.merge(ha, hb).counts]).toEqual([...Histogram.merge(hb, ha).counts]);
          // merging is the same as counting everything in one histogram
          expect([...left.counts]).toEqual([...filled(spec, [...a, ...b, ...c]).counts]);
          expect(left.n).toBe(a.length + b.length + c.length);
        }),
        { numRuns: 60 },
      );
    }
  });

  it('hard linear bins: floor of the position, outliers in the end bins', () => {
    const h = filled({ kind: 'linear', lo: 0, hi: 10, bins: 5, soft: false }, [0, 1.99, 2, 9.99, 10, -3, 42]);
    expect([...h.counts]).toEqual([3, 1, 0, 0, 3]);
  });

  it('soft bins split a value between the two nearest centres, in sixteenths', () => {
    // bins of width 2 centred on 1, 3, 5, 7, 9
    const h = filled({ kind: 'linear', lo: 0, hi: 10, bins: 5, soft: true }, [3, 4, 4.5, 0.2, 9.9]);
    // 3 → bin 1; 4 → half 1, half 2; 4.5 → 1/4 bin 1, 3/4 bin 2; 0.2 → bin 0; 9.9 → bin 4
    expect([...h.counts]).toEqual([1, 1 + 0.5 + 0.25, 0.5 + 0.75, 0, 1]);
  });

  it('log bins are equal in ln v; zero and negatives go to the first bin', () => {
    const h = filled({ kind: 'log', lo: 1, hi: 1000, bins: 3, soft: false }, [1, 9.9, 10, 500, 0, -1, 1e6]);
    expect([...h.counts]).toEqual([4, 1, 2]);
  });

  it('edges: bin i holds [lower[i], lower[i+1]), the last bin is open above', () => {
    const h = filled({ kind: 'edges', lower: [0, 1, 2, 5] }, [0, 0.5, 1, 4.99, 5, 100, -1]);
    expect([...h.counts]).toEqual([3, 1, 1, 2]);
  });

  it('NaN is not counted; JSON round-trips; different bins refuse to merge', () => {
    const spec = specs[0]!;
    const h = filled(spec, [NaN, 12, 100]);
    expect(h.n).toBe(2);
    expect([
      ...Histogram.fromJSON(JSON.parse(JSON.stringify(h)) as ReturnType<Histogram['toJSON']>).counts,
    ]).toEqual([...h.counts]);
    expect(() => Histogram.merge(h, new Histogram(specs[1]!))).toThrow('different bins');
  });
});
