import { z } from 'zod';

/**
 * How the status page names a PM2.5 estimate (`http.pm25Levels`, docs/http.md#air-quality-levels).
 * Levels go from clean to bad; each but the last has an upper edge in µg/m³ (inclusive).
 */
export const Pm25Level = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(40)
    .describe('Words the status page shows for this level (1 to 40 characters).'),
  upTo: z
    .number()
    .positive()
    .optional()
    .describe('Upper edge, µg/m³, inclusive; absent on the last level, and only there. Edges rise.'),
  tone: z.enum(['ok', 'warn', 'bad']).describe('Colour on the page: ok (green), warn (amber), bad (red).'),
});
export type Pm25Level = z.infer<typeof Pm25Level>;

/**
 * The US EPA Air Quality Index categories for PM2.5 as revised in 2024 (40 CFR 58 App. G), which are
 * defined on 24-hour means; the page says the estimate's window is shorter.
 */
export const defaultPm25Levels: Pm25Level[] = [
  { name: 'good', upTo: 9, tone: 'ok' },
  { name: 'moderate', upTo: 35.4, tone: 'warn' },
  { name: 'unhealthy for sensitive groups', upTo: 55.4, tone: 'warn' },
  { name: 'unhealthy', upTo: 125.4, tone: 'bad' },
  { name: 'very unhealthy', upTo: 225.4, tone: 'bad' },
  { name: 'hazardous', tone: 'bad' },
];

export const Pm25Levels = z
  .array(Pm25Level)
  .min(2)
  .max(12)
  .superRefine((levels, ctx) => {
    levels.forEach((l, i) => {
      const last = i === levels.length - 1;
      if (last && l.upTo !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: 'the last level has no upper edge' });
      }
      if (!last && l.upTo === undefined) {
        ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: 'every level but the last needs upTo' });
      }
      const before = levels[i - 1]?.upTo;
      if (l.upTo !== undefined && before !== undefined && l.upTo <= before) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'upTo'],
          message: `upper edges must rise: ${l.upTo} after ${before}`,
        });
      }
      if (levels.findIndex((o) => o.name === l.name) !== i) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `level "${l.name}" is named twice` });
      }
    });
  });
