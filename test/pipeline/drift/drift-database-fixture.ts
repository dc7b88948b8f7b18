import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DriftKey } from '../../../pipeline/drift/drift-records.js';
import type { DriftProfile } from '../../../pipeline/drift/profile.js';
import { imageStatSpecs } from '../../../pipeline/drift/statistics.js';

// The database file, key and profile the drift-database*.test.ts files write and read.

export const dbFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'vigil-driftdb-')), 'drift.db');
export const key: DriftKey = { camera: 'gate', modelId: 'det', configRevision: '0840e8904565' };

export const profile = (frames: number): DriftProfile => ({
  frames,
  imageFrames: frames,
  hists: {
    'image.dark': {
      spec: imageStatSpecs['image.dark'],
      counts: [frames, ...new Array<number>(24).fill(0)],
    },
  },
  keyed: { 'det.labels': { person: 2 * frames } },
});
