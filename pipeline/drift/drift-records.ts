import { z } from 'zod';
import type { DriftState } from './drift-state.js';
import { DriftProfile } from './profile.js';

/** Which camera, model and config revision a window or a reference belongs to. */
export interface DriftKey {
  camera: string;
  modelId: string;
  configRevision: string;
}

export const windowStatuses = ['scored', 'too-few-samples', 'no-reference'] as const;
export type WindowStatus = (typeof windowStatuses)[number];

export interface StoredWindow extends DriftKey {
  start: number;
  end: number;
  status: WindowStatus;
  state: DriftState;
  /** When the state began (epoch ms, the clock of the windows). */
  stateSince: number;
  profile: DriftProfile;
  /** The reference the window was compared with (null: none). */
  referenceId?: number | null;
}

export const referenceSources = ['baseline', 'auto', 'import'] as const;

/** A reference profile as exported: one file a fleet can ship to many boxes. */
export const ReferenceExport = z.strictObject({
  format: z.literal('vigil-drift-reference'),
  version: z.literal(1),
  binsVersion: z.number().int(),
  camera: z.string(),
  modelId: z.string(),
  configRevision: z.string(),
  /** The range of windows it was built from (epoch ms). */
  from: z.number(),
  to: z.number(),
  windows: z.number().int().nonnegative(),
  source: z.enum(referenceSources),
  createdAt: z.number(),
  /** Where an imported reference came from. */
  origin: z.string().optional(),
  profile: DriftProfile,
});
export type ReferenceExport = z.infer<typeof ReferenceExport>;

export type DriftReference = Omit<ReferenceExport, 'format' | 'version'> & { id: number };
