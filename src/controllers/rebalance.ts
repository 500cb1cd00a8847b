/**
 * Rebalancing: when a node joins or comes back, the tasks of a spread service move onto it,
 * gradually. Swarm never does this (moby#24103) nor Nomad (nomad#1635): after a failure and
 * return the cluster stays lopsided until the next deploy.
 *
 * A move is a start-first replacement of one slot on another node: a new task of the same
 * version is created pinned to the target (the scheduler still checks it fits there), the old
 * one keeps running until the new one runs, then stops (slots.ts keeps the pair meanwhile). So
 * the service never has fewer running tasks than `replicas`. Per service and pass:
 *
 * - only replicated services with the `spread` strategy, no placement preferences and no
 *   affinity rules (those place by other goals than an even count), not `x-shoal.rebalance:
 *   false`, with no rollout under way and no outdated slot; not services whose tasks stop when
 *   their node loses the quorum (a named volume, `on_disconnect: stop`): their slots must never
 *   run twice, and a move always runs the slot twice for a moment, whatever `update_config.order`;
 * - only when every slot is settled (running, current) or moving: a service short of healthy
 *   tasks is repaired first, not moved;
 * - the target is the scheduler's own choice for one more task (constraints, resources, ports,
 *   max_replicas_per_node), and a slot moves only when its node holds at least two more of the
 *   service's tasks than the target. Each move lowers the sum of squares of the per-node counts,
 *   so moves end and never flap;
 * - at most `update_config.parallelism` moves at once (0: no limit but the pass's), and at most
 *   the pass's budget of moves across all services;
 * - a slot moves only while its running task is its newest task: a move that failed or was
 *   cancelled leaves a newer ended task and that slot is not tried again;
 * - a move whose new task the scheduler cannot place after all (it waits with a reason) is
 *   cancelled: the old task stays.
 *
 * Pure: the same state gives the same moves.
 * @module
 */
import { stopsOnDisconnect } from '../runtime/self-fence.js';
import { isRolloutActive } from '../state/rollout.js';
import type { ServiceRecord, TaskRecord } from '../state/workloads.js';
import { newestFirst } from './backoff.js';
import type { RebalanceTargets } from './rebalance-targets.js';
import { canarySlots } from './rollout/canary.js';
import { isLive, type UpdateSlot } from './slots.js';

/** Moves started per controller pass across all services, by default. */
export const DEFAULT_REBALANCE_MOVES = 16;

export interface RebalanceInput {
  readonly service: ServiceRecord;
  /** The slots 1..replicas, decided by planSlot. */
  readonly slots: readonly UpdateSlot<number>[];
  /** The tasks of each slot, in any state. */
  readonly slotTasks: (slot: number) => readonly TaskRecord[];
  readonly targets: RebalanceTargets;
  /** Moves the pass may still start (across services); decremented by what this plan starts. */
  readonly budget: { left: number };
}

export interface RebalancePlan {
  /** New tasks, one per slot moved, pinned to their target node. */
  readonly create: { readonly slot: number; readonly nodeId: string }[];
  /** New tasks of cancelled moves. */
  readonly shutdown: TaskRecord[];
}

const NOTHING: RebalancePlan = Object.freeze({ create: [], shutdown: [] });

/** Whether rebalancing applies to the service at all (its spec and rollout). */
export function rebalances(service: ServiceRecord): boolean {
  const spec = service.spec;
  if (spec.kind !== 'replicated' || spec.scheduling.rebalance === false) return false;
  // At most one task per slot (a named volume's single writer): never two at once, not even to move.
  if (stopsOnDisconnect(spec)) return false;
  if (spec.scheduling.strategy !== 'spread' || spec.scheduling.affinity.length > 0) return false;
  if (spec.deploy.placement.preferences.length > 0) return false;
  // A paused canary phase keeps old tasks beside its canaries: nothing moves until it ends.
  return service.rollout === undefined || (!isRolloutActive(service.rollout.state) && canarySlots(service) === 0);
}

/**
 * Plan one service's moves.
 * @example
 * const { create, shutdown } = planRebalance({ service, slots, slotTasks, targets, budget: { left: 16 } });
 */
export function planRebalance(input: RebalanceInput): RebalancePlan {
  const { service, targets } = input;
  if (!rebalances(service) || input.slots.some((s) => s.decision.status === 'outdated')) return NOTHING;

  const counts = new Map<string, number>();
  const movable = new Map<string, number[]>();
  const shutdown: TaskRecord[] = [];
  let moving = 0;
  let healthy = true;
  const count = (nodeId: string, by: number): void => void counts.set(nodeId, (counts.get(nodeId) ?? 0) + by);

  for (const { key: slot, decision } of input.slots) {
    const tasks = input.slotTasks(slot);
    if (decision.status === 'settled') {
      const running = decision.running!;
      if (running.nodeId === null) continue;
      count(running.nodeId, 1);
      if ([...tasks].sort(newestFirst)[0] === running)
        movable.set(running.nodeId, [...(movable.get(running.nodeId) ?? []), slot]);
      continue;
    }
    const move = moveOf(tasks);
    if (move === undefined) {
      healthy = false;
      continue;
    }
    moving++;
    if (move.to.state === 'pending' && move.to.message !== '') {
      shutdown.push(move.to); // the scheduler cannot place it after all: the old task stays
      count(move.from.nodeId!, 1);
    } else {
      count(move.to.nodeId!, 1);
      if (move.to.state === 'pending') targets.reserve(service, move.to.nodeId!);
    }
  }
  const parallelism = service.spec.deploy.updateConfig.parallelism;
  let budget = Math.min(parallelism === 0 ? Infinity : parallelism - moving, input.budget.left);
  if (!healthy || budget <= 0 || !uneven(counts, () => targets.open(service))) return { create: [], shutdown };

  const create: { slot: number; nodeId: string }[] = [];
  while (budget > 0) {
    const source = fullest(counts, movable);
    if (source === undefined) break;
    const target = targets.pick(service);
    if (target === undefined || (counts.get(source) ?? 0) - (counts.get(target) ?? 0) < 2) break;
    const slot = movable.get(source)!.pop()!;
    create.push({ slot, nodeId: target });
    count(source, -1);
    count(target, 1);
    targets.reserve(service, target);
    budget--;
    input.budget.left--;
  }
  return { create, shutdown };
}

/**
 * A move under way in a slot: two live tasks, the older running where it was, the newer pinned
 * to its target. Undefined for anything else (a slot starting or stopping for another reason).
 */
function moveOf(tasks: readonly TaskRecord[]): { from: TaskRecord; to: TaskRecord } | undefined {
  const live = tasks.filter(isLive).sort(newestFirst);
  if (live.length !== 2) return undefined;
  const [to, from] = live as [TaskRecord, TaskRecord];
  if (from.state !== 'running' || from.nodeId === null || to.nodeId === null) return undefined;
  return from.serviceVersion === to.serviceVersion ? { from, to } : undefined;
}

/**
 * Whether some node holds two tasks more than another node that could take one (a cheap test
 * before asking the scheduler; the scheduler decides where).
 */
function uneven(counts: ReadonlyMap<string, number>, open: () => readonly string[]): boolean {
  let max = 0;
  for (const n of counts.values()) max = Math.max(max, n);
  if (max < 2) return false;
  let min = Infinity;
  let seen = 0;
  for (const id of open()) {
    const n = counts.get(id);
    if (n === undefined) return true;
    seen++;
    min = Math.min(min, n);
  }
  return seen > 0 && max - min >= 2;
}

/** The node with the most tasks of the service that still has a slot to move (ties: lowest id). */
function fullest(counts: ReadonlyMap<string, number>, movable: ReadonlyMap<string, number[]>): string | undefined {
  let best: string | undefined;
  for (const [id, slots] of movable) {
    if (slots.length === 0) continue;
    const n = counts.get(id) ?? 0;
    const b = best === undefined ? -1 : (counts.get(best) ?? 0);
    if (n > b || (n === b && id < best!)) best = id;
  }
  return best;
}
