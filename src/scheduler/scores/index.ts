/** The placement scores. */
import { affinityScore } from './affinity.js';
import { binpackScore } from './binpack.js';
import { preferencesScore } from './preferences.js';
import type { Score } from './score.js';
import { spreadScore } from './spread.js';

export type { Score } from './score.js';
export { affinityScore, binpackScore, preferencesScore, spreadScore };

/** Every score. `preferences` is evaluated per attribute value by the pipeline, the others per node. */
export const DEFAULT_SCORES: readonly Score[] = Object.freeze([
  preferencesScore,
  affinityScore,
  spreadScore,
  binpackScore,
]);
