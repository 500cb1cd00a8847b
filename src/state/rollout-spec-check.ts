/**
 * The check of a service spec's `rollout` field (`x-shoal.update`), apart from rollout.ts so
 * the spec checks can use it without an import cycle.
 * @module
 * @private
 */
import type { ImageUpdateSpec, RolloutSpec } from '../stack/spec.js';
import { at, boolean, fail, integer, isPlainObject, object, show } from './check.js';

/** The spec's `rollout` (from `x-shoal.update`). */
export function checkRolloutSpec(v: unknown, path: string): RolloutSpec {
  if (!isPlainObject(v)) fail(path, `expected an object, got ${show(v)}`);
  const r = object(v, path, ['canary', 'autoPromote', 'progressDeadlineMs']);
  return {
    canary: integer(r.canary, at(path, 'canary'), 0, 1_000_000),
    autoPromote: boolean(r.autoPromote, at(path, 'autoPromote')),
    progressDeadlineMs: integer(r.progressDeadlineMs, at(path, 'progressDeadlineMs'), 1000),
  };
}

/** The spec's `imageUpdate` (from `x-shoal.image_update`). */
export function checkImageUpdateSpec(v: unknown, path: string): ImageUpdateSpec | false {
  if (v === false) return false;
  if (!isPlainObject(v)) fail(path, `expected an object, got ${show(v)}`);
  const r = object(v, path, ['intervalMs', 'policy'], ['intervalMs']);
  const intervalMs = integer(r.intervalMs, at(path, 'intervalMs'), 5_000);
  if (r.policy === undefined) return { intervalMs };
  if (r.policy !== 'local') fail(at(path, 'policy'), `expected "local" (or no policy), got ${show(r.policy)}`);
  return { intervalMs, policy: 'local' };
}
