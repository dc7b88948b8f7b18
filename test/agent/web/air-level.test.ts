import { describe, expect, it } from 'vitest';
import { airLevel } from '../../../agent/web/air-level.js';
import { defaultPm25Levels, type Pm25Level } from '../../../config/pm25-levels-schema.js';

describe('airLevel: what the page calls a PM2.5 estimate', () => {
  it('names the US EPA category of the value, at 0.1 µg/m³ as the categories are written', () => {
    const name = (v: number) => airLevel(v, null, defaultPm25Levels)!.name;
    expect(name(0)).toBe('good');
    expect(name(9.04)).toBe('good'); // reads 9.0
    expect(name(9.06)).toBe('moderate'); // reads 9.1
    expect(name(35.4)).toBe('moderate');
    expect(name(35.5)).toBe('unhealthy for sensitive groups');
    expect(name(55.5)).toBe('unhealthy');
    expect(name(125.5)).toBe('very unhealthy');
    expect(name(225.5)).toBe('hazardous');
    expect(name(5000)).toBe('hazardous');
    expect(airLevel(60, null, defaultPm25Levels)!.tone).toBe('bad');
    expect(airLevel(3, null, defaultPm25Levels)!.tone).toBe('ok');
  });

  it("says which levels the 80 % interval reaches, so an uncertain 'good' does not read as a firm one", () => {
    expect(airLevel(7, [5, 8], defaultPm25Levels)!.band80).toEqual({ low: 'good', high: 'good' });
    expect(airLevel(7, [3, 40], defaultPm25Levels)).toEqual({
      name: 'good',
      tone: 'ok',
      band80: { low: 'good', high: 'unhealthy for sensitive groups' },
    });
    // An interval that does not hold its own value (a median of windows) still reaches the value's level.
    expect(airLevel(20, [22, 30], defaultPm25Levels)!.band80).toEqual({ low: 'moderate', high: 'moderate' });
  });

  it('nothing to say of a window that was not estimable', () => {
    expect(airLevel(null, null, defaultPm25Levels)).toBeNull();
    expect(airLevel(Number.NaN, [1, 2], defaultPm25Levels)).toBeNull();
  });

  it("follows a site's own levels", () => {
    const who: Pm25Level[] = [
      { name: 'within the WHO guideline', upTo: 15, tone: 'ok' },
      { name: 'above the WHO guideline', tone: 'warn' },
    ];
    expect(airLevel(12, [8, 20], who)).toEqual({
      name: 'within the WHO guideline',
      tone: 'ok',
      band80: { low: 'within the WHO guideline', high: 'above the WHO guideline' },
    });
    expect(airLevel(300, null, who)!.name).toBe('above the WHO guideline');
  });
});
