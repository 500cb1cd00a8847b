/**
 * Events from the replicated log: each applied command, with the state before and after it,
 * gives the same events on every agent. **Adding a kind of event is adding a deriver to
 * {@link DERIVERS}** (a rollout's steps, an autoscaler's decision): nothing else changes.
 * @module
 */
import type { AppliedCommand } from '../../state/cluster-state.js';
import type { EventDraft } from '../types.js';
import { autoscaleEvents } from './autoscale.js';
import { fileObjectEvents } from './file-objects.js';
import { jobEvents } from './jobs.js';
import { clusterEvents, nodeEvents } from './nodes.js';
import { preemptionEvents, taskEvents } from './tasks.js';
import { rolloutEvents } from './rollouts.js';
import { imageWatchEvents } from './image-watch.js';
import { serviceEvents, stackEvents } from './workloads.js';

/**
 * Makes the events of one applied command. Pure and deterministic (every agent numbers the
 * events alike), and O(what the command changed): it runs inside apply on every agent.
 */
export type Deriver = (change: AppliedCommand) => readonly EventDraft[];

/** Every deriver, in the order a command's events are numbered. */
export const DERIVERS: readonly Deriver[] = [
  clusterEvents,
  nodeEvents,
  stackEvents,
  serviceEvents,
  rolloutEvents,
  imageWatchEvents,
  autoscaleEvents,
  preemptionEvents,
  taskEvents,
  jobEvents,
  fileObjectEvents,
];

/**
 * The events of one applied command, in order.
 * @example deriveEvents({ index: 42, command, before, after }) // [{ type: 'service', action: 'scaled', ... }]
 */
export function deriveEvents(change: AppliedCommand, derivers: readonly Deriver[] = DERIVERS): EventDraft[] {
  const out: EventDraft[] = [];
  for (const derive of derivers) out.push(...derive(change));
  return out;
}
