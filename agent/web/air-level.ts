import type { Pm25Level } from '../../config/pm25-levels-schema.js';
import type { AirLevel } from './status-schema.js';

/** The level a value falls in; values are compared at 0.1 µg/m³, as the categories are written. */
function levelOf(value: number, levels: readonly Pm25Level[]): Pm25Level {
  const v = Math.round(value * 10) / 10;
  return levels.find((l) => l.upTo === undefined || v <= l.upTo) ?? levels[levels.length - 1]!;
}

/**
 * The level of an estimate, or null when there is none (not estimable). The interval's levels go with it
 * so that an uncertain estimate never reads as a firm "good": the page shows "good to unhealthy" then.
 */
export function airLevel(
  pm25: number | null,
  interval80: readonly [number, number] | null,
  levels: readonly Pm25Level[],
): AirLevel | null {
  if (pm25 === null || !Number.isFinite(pm25)) return null;
  const level = levelOf(pm25, levels);
  const band80 = interval80
    ? {
        low: levelOf(Math.min(interval80[0], pm25), levels).name,
        high: levelOf(Math.max(interval80[1], pm25), levels).name,
      }
    : null;
  return { name: level.name, tone: level.tone, band80 };
}
