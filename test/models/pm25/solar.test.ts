import { describe, expect, it } from 'vitest';
import { sunElevationDeg } from '../../../models/pm25/solar.js';

// The module claims NOAA's low-precision formulas, "well under 1°" of error.
const TOLERANCE_DEG = 1;
const OBLIQUITY_DEG = 23.44;

/** Elevations over one UTC day from `dayIso` (a minute apart), with the minute of each. */
function dayCurve(dayIso: string, lat: number, lon: number) {
  const t0 = Date.parse(dayIso);
  return Array.from({ length: 1440 }, (_, m) => ({
    at: t0 + m * 60_000,
    el: sunElevationDeg(new Date(t0 + m * 60_000), lat, lon),
  }));
}
const highest = (curve: { at: number; el: number }[]) => curve.reduce((a, b) => (b.el > a.el ? b : a));
const lowest = (curve: { at: number; el: number }[]) => curve.reduce((a, b) => (b.el < a.el ? b : a));

// Upper culmination (solar noon) of a sun at declination δ seen from latitude φ: 90° − |φ − δ|.
// Lower culmination (solar midnight): |φ + δ| − 90°, from sin el = sin φ sin δ − cos φ cos δ = −cos(φ + δ).
const noonDeg = (lat: number, decl: number) => 90 - Math.abs(lat - decl);
const midnightDeg = (lat: number, decl: number) => Math.abs(lat + decl) - 90;

// Declination is 0 at an equinox and ±obliquity at a solstice; the days below straddle the 2024 instants
// (equinox 2024-03-20 03:06 UTC, solstices 2024-06-20 20:51 UTC and 2024-12-21 09:20 UTC), within which
// the declination moves by well under 0.5°.
const cases = [
  { name: 'equinox, Osaka', day: '2024-03-19T15:00Z', lat: 34.7, lon: 135.5, decl: 0 },
  { name: 'equinox, Santiago', day: '2024-03-20T05:00Z', lat: -33.4, lon: -70.6, decl: 0 },
  { name: 'June solstice, London', day: '2024-06-20T00:00Z', lat: 51.5, lon: -0.1, decl: OBLIQUITY_DEG },
  { name: 'June solstice, Milan', day: '2024-06-20T00:00Z', lat: 45.46, lon: 9.19, decl: OBLIQUITY_DEG },
  {
    name: 'December solstice, Sydney',
    day: '2024-12-20T14:00Z',
    lat: -33.9,
    lon: 151.2,
    decl: -OBLIQUITY_DEG,
  },
  { name: 'December solstice, Milan', day: '2024-12-21T00:00Z', lat: 45.46, lon: 9.19, decl: -OBLIQUITY_DEG },
];

describe('sunElevationDeg', () => {
  it.each(cases)('peaks at 90° − |φ − δ| at solar noon ($name)', ({ day, lat, lon, decl }) => {
    expect(Math.abs(highest(dayCurve(day, lat, lon)).el - noonDeg(lat, decl))).toBeLessThan(TOLERANCE_DEG);
  });

  it.each(cases)('bottoms out at |φ + δ| − 90° at solar midnight ($name)', ({ day, lat, lon, decl }) => {
    const low = lowest(dayCurve(day, lat, lon)).el;
    expect(low).toBeLessThan(0);
    expect(Math.abs(low - midnightDeg(lat, decl))).toBeLessThan(TOLERANCE_DEG);
  });

  it('puts the sun overhead on the Tropic of Cancer at the June solstice', () => {
    const el = highest(dayCurve('2024-06-20T00:00Z', OBLIQUITY_DEG, 0)).el;
    expect(el).toBeGreaterThan(90 - TOLERANCE_DEG);
  });

  it('keeps the midnight sun above the horizon north of the Arctic Circle in June, and below it in December', () => {
    const tromso = { lat: 69.65, lon: 18.96 };
    const june = lowest(dayCurve('2024-06-20T00:00Z', tromso.lat, tromso.lon)).el;
    expect(june).toBeGreaterThan(0);
    expect(Math.abs(june - midnightDeg(tromso.lat, OBLIQUITY_DEG))).toBeLessThan(TOLERANCE_DEG);
    const december = highest(dayCurve('2024-12-21T00:00Z', tromso.lat, tromso.lon)).el;
    expect(december).toBeLessThan(0);
    expect(Math.abs(december - noonDeg(tromso.lat, -OBLIQUITY_DEG))).toBeLessThan(TOLERANCE_DEG);
  });

  it('culminates at local mean noon, 12:00 − λ/15 h UTC, give or take the equation of time (±17 min)', () => {
    for (const { day, lat, lon } of cases) {
      const noon = highest(dayCurve(day, lat, lon)).at;
      const t0 = Date.parse(day);
      // Local mean noon as a UTC time of day, placed inside the scanned 24 h.
      const noonOfDayMs = ((((12 - lon / 15) % 24) + 24) % 24) * 3_600_000;
      let want = Math.floor(t0 / 86_400_000) * 86_400_000 + noonOfDayMs;
      if (want < t0) want += 86_400_000;
      expect(Math.abs(noon - want) / 60_000).toBeLessThan(17);
    }
  });

  it('turns with the earth: 15° further west sees the same sun an hour later', () => {
    const t = Date.parse('2024-03-20T09:30Z');
    for (const lat of [-40, 0, 45.46]) {
      const east = sunElevationDeg(new Date(t), lat, 9.19);
      const west = sunElevationDeg(new Date(t + 3_600_000), lat, 9.19 - 15);
      // Only the sun's own motion in one hour separates them (declination ≈ 0.016°/h at the equinox).
      expect(Math.abs(east - west)).toBeLessThan(0.05);
    }
  });

  it('is symmetric between hemispheres at an equinox', () => {
    const t = new Date('2024-03-20T03:06Z');
    for (const lat of [10, 35, 60]) {
      expect(sunElevationDeg(t, lat, 135.5)).toBeCloseTo(sunElevationDeg(t, -lat, 135.5), 1);
    }
  });

  it('is negative at local midnight and positive at local noon in Milan (the night gate’s site)', () => {
    // Milan is UTC+1 in winter, UTC+2 in summer.
    expect(sunElevationDeg(new Date('2025-01-29T23:00Z'), 45.46, 9.19)).toBeLessThan(0);
    expect(sunElevationDeg(new Date('2025-07-15T22:00Z'), 45.46, 9.19)).toBeLessThan(0);
    expect(sunElevationDeg(new Date('2025-01-29T11:00Z'), 45.46, 9.19)).toBeGreaterThan(0);
    expect(sunElevationDeg(new Date('2025-07-15T10:00Z'), 45.46, 9.19)).toBeGreaterThan(0);
  });
});
