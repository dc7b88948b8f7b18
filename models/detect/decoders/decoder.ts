import type { ModelFamily } from '../../../config/schema.js';
import type { InputSpec } from '../../types.js';
import type { Candidate, Thresholds } from '../candidate.js';

/** One family's output layout: whether an output shape is its own, and how to turn it into boxes. */
export interface Decoder {
  family: ModelFamily;
  /** null when `dims` is this family's layout for `classes` classes, else why not (shown to the user). */
  refuse(dims: readonly (number | null)[], input: Pick<InputSpec, 'width' | 'height'>): string | null;
  /** Class scores per box in an output this decoder accepted; null when the layout does not say. */
  classCount(dims: readonly (number | null)[]): number | null;
  /** The graph selects boxes itself (end-to-end exports): thresholds and the cap apply, NMS does not. */
  nmsInside?: boolean;
  /** Candidates in model-input pixels, above the floor threshold, before NMS. */
  decode(output: Float32Array, dims: readonly number[], input: InputSpec, t: Thresholds): Candidate[];
}
