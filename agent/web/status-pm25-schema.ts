import { z } from 'zod';
import { Pm25Level } from '../../config/pm25-levels-schema.js';

/** The PM2.5 part of a camera in `GET /api/status` (status-schema.ts; docs/http.md). */

const EpochMs = z.number().int().nonnegative();
const Count = z.number().int().nonnegative();
const NonNeg = z.number().nonnegative();

export const pm25CalibrationStates = ['uncalibrated', 'calibrating', 'calibrated'] as const;

export const Pm25Point = z.strictObject({
  /** End of the window, epoch ms. */
  ts: EpochMs,
  /** µg/m³; null when the window was not estimable. */
  pm25: NonNeg.nullable(),
  /** 80 % interval [low, high], or null. */
  interval80: z.tuple([NonNeg, NonNeg]).nullable(),
});
export type Pm25Point = z.infer<typeof Pm25Point>;

/** What the page says of a PM2.5 estimate (air-level.ts): its level, and how far its 80 % interval reaches. */
export const AirLevel = z.strictObject({
  name: z.string(),
  tone: Pm25Level.shape.tone,
  /** Levels of the 80 % interval's ends; the same name twice when it lies within one level. */
  band80: z.strictObject({ low: z.string(), high: z.string() }).nullable(),
});
export type AirLevel = z.infer<typeof AirLevel>;

export const ReferenceTally = z.strictObject({
  /** Where this camera's readings are subscribed (docs/mqtt.md); null without an MQTT link. */
  topic: z.string().nullable(),
  /** The CSV followed for them (`pm25.referenceCsv`); null without one. */
  csv: z.string().nullable(),
  /** What is wrong with that CSV as a whole (missing, unreadable, no usable header); null when it reads. */
  csvProblem: z.string().nullable(),
  paired: Count,
  /** Readings that parsed but paired with no frame (`last.reason` says why for the last one). */
  notPaired: Count,
  /** Messages or CSV lines that were not a reading (not JSON, a field missing or out of range). */
  refused: Count,
  last: z
    .strictObject({
      /** When this box received it, epoch ms. */
      receivedAt: EpochMs,
      /** From the topic or from the CSV. */
      via: z.enum(['mqtt', 'csv']),
      /** The reading's own time, epoch ms; null for a refused message. */
      ts: EpochMs.nullable(),
      pm25: NonNeg.nullable(),
      outcome: z.enum(['paired', 'not-paired', 'refused']),
      /** Why it was not paired, or refused. */
      reason: z.string().optional(),
    })
    .nullable(),
});
export type ReferenceTally = z.infer<typeof ReferenceTally>;

export const CameraPm25 = z.strictObject({
  unit: z.literal('ug/m3'),
  latest: Pm25Point.extend({
    interval95: z.tuple([NonNeg, NonNeg]).nullable(),
    windowMinutes: z.number().positive(),
    estimable: z.boolean(),
    /** `site-model` once calibrated against a sensor, `physical-prior` (wide band) before. */
    source: z.string().nullable(),
    /** Quality flags raised in the window (fog, night, blur, …) with how many frames raised them. */
    flags: z.record(z.string(), Count),
    /** The estimate's level from `http.pm25Levels` (docs/http.md#air-quality-levels); null: not estimable. */
    level: AirLevel.nullable(),
  }),
  /** The site model's state as the latest window gave it; null when the window did not say. */
  calibration: z
    .strictObject({
      state: z.enum(pm25CalibrationStates),
      /** Pairs of a reading and the frames of its time that the site model holds. */
      samples: Count,
      /** The site model's last fit, epoch ms; null before the first. */
      lastRefit: EpochMs.nullable(),
    })
    .nullable(),
  /**
   * The co-located sensor's readings since the agent started (counted across restarts of this camera's
   * PM2.5 stage); null when none can arrive (no MQTT link and no reference CSV).
   */
  reference: ReferenceTally.nullable(),
  /** The last 24 hours, oldest first. */
  history: z.array(Pm25Point),
});
export type CameraPm25 = z.infer<typeof CameraPm25>;
