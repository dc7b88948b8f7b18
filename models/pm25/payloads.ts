import { z } from 'zod';
import { gateFlags } from './gates.js';

const Interval = z.tuple([z.number().nonnegative(), z.number().nonnegative()]);

/** Published on `<base>/<site>/<device>/cameras/<camera>/pm25` once per window (see docs/pm25.md). */
export const Pm25Payload = z.strictObject({
  camera: z.string(),
  /** End of the aggregation window (ISO 8601). */
  ts: z.string(),
  windowStart: z.string(),
  windowMinutes: z.number().positive(),
  unit: z.literal('ug/m3'),
  /** False when no frame in the window passed the gates: `pm25` and the intervals are null, `flags` say why. */
  estimable: z.boolean(),
  pm25: z.number().nonnegative().nullable(),
  interval80: Interval.nullable(),
  interval95: Interval.nullable(),
  /** `site-model` once calibrated against a sensor; `physical-prior` (wide band) without one. */
  source: z.enum(['site-model', 'physical-prior']).nullable(),
  frames: z.number().int().nonnegative(),
  framesUsed: z.number().int().nonnegative(),
  /** Every gate flag raised in the window, with how many frames raised it. */
  flags: z.partialRecord(z.enum(gateFlags), z.number().int().positive()),
  /** Medians over the frames used (null when none). */
  features: z.strictObject({
    betaPerKm: z.number().nullable(),
    visibilityKm: z.number().nullable(),
    angstrom: z.number().nullable(),
    skyBlueRed: z.number().nullable(),
    skySaturation: z.number().nullable(),
    sharpness: z.number().nullable(),
  }),
  calibration: z.strictObject({
    state: z.enum(['uncalibrated', 'calibrating', 'calibrated']),
    samples: z.number().int().nonnegative(),
    lastRefit: z.string().nullable(),
  }),
});
export type Pm25Payload = z.infer<typeof Pm25Payload>;

/** The largest reference reading taken, µg/m³ (sensors such as the SDS011 top out at 999.9). */
export const maxReferencePm25 = 2000;

/**
 * The smallest reading fitted, µg/m³: below it sensors resolve nothing (they report 0, 1, 2 in clean air), and
 * ln of it would outweigh every other pair: a gateway sending mg/m³ (0.028 for 28) once halved the estimate
 * with six readings. Such a reading is taken for its humidity, not fitted.
 */
export const minFittedPm25 = 1;

/** Inbound on `<base>/<site>/<device>/cameras/<camera>/pm25/reference`: a co-located sensor's reading. */
export const Pm25ReferenceReading = z.strictObject({
  /**
   * Time the reading refers to (an hourly mean: the end of its hour), ISO 8601 with its UTC offset. Any text
   * Date.parse took was taken once: "12" as 1 Dec 2001, and a time without offset in the box process's zone,
   * which a sensor's integrator cannot know (UTC in a container, local time on a dev box).
   */
  ts: z
    .string()
    .regex(/^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d:?\d\d)$/, {
      error:
        'expected an ISO 8601 time with its UTC offset, like 2025-02-18T10:00:00+01:00 or 2025-02-18T09:00:00Z',
      abort: true,
    })
    .refine((s) => !Number.isNaN(Date.parse(s)), 'not a calendar time (a month 13, an hour 25?)'),
  /**
   * µg/m³. Above the ceiling no hourly mean is real: a sensor's error code (65535) or a unit mix-up, which
   * would pair into the site model's fit and stay in its saved state.
   */
  pm25: z
    .number()
    .nonnegative()
    .max(maxReferencePm25, `at most ${maxReferencePm25} ug/m3 (a sensor fault or another unit)`),
  /** Relative humidity (%) if the sensor has it: feeds the fog gate. */
  humidity: z.number().min(0).max(100).optional(),
  sensor: z.string().optional(),
});
export type Pm25ReferenceReading = z.infer<typeof Pm25ReferenceReading>;
