/**
 * Backfill reservations (Slurm's conservative backfill): for a blocked job high in the queue, find
 * the earliest time it fits once running tasks end at their time limits, and which resources on
 * which nodes it will need then. Those resources are then held back from every lower task that
 * would still be running at that time.
 */
import type { Claim } from '../accounting.js';
import type { TaskGroup } from '../group.js';
import type { HostPort, Reservations } from '../types.js';
import { type Amounts, accountingOf, addAmounts, emptyAmounts, excess, type HeldClaim } from './accounting.js';
import { type PlaceContext, placeAll, type Put } from './place.js';
import type { QueuedTask } from './types.js';
import type { NodeView } from '../types.js';

/** Resources to hold on one node for a reservation. */
export interface Hold {
  readonly nodeId: string;
  /** Undefined when only ports are held. */
  readonly reservations: Reservations | undefined;
  /** Host ports the unit publishes there: kept free for it too. */
  readonly ports: readonly HostPort[];
}

/** Where and when a blocked unit can start. */
export interface Reservation {
  /** Expected start, ms (never before `now`). */
  readonly start: number;
  /** What lower, longer tasks must leave free now so the start is not delayed. */
  readonly holds: readonly Hold[];
  /** Everything the unit takes at its start, per node (later reservations count it as taken for good). */
  readonly needs: readonly Hold[];
  /** Claims whose end the start relies on (they free resources the unit needs): not to be preempted. */
  readonly reliedOn: readonly Claim[];
}

export interface ReservationInput {
  readonly now: number;
  readonly nodes: readonly NodeView[];
  readonly order: readonly string[];
  /** Everything that holds resources now, with when it frees them (Infinity: never). */
  readonly claims: readonly HeldClaim[];
  /** The unit to reserve for: runs of identical tasks, placed all together. */
  readonly runs: readonly (readonly QueuedTask[])[];
  readonly groups: Map<QueuedTask, TaskGroup>;
  readonly ctx: PlaceContext;
}

/**
 * The earliest end time after which the unit fits, or undefined when it would not fit even once
 * every task with a time limit has ended. Fit only grows as tasks end, so the times are searched by
 * galloping then bisecting, moving one simulated accounting back and forth.
 */
export function findReservation(input: ReservationInput): Reservation | undefined {
  const { now, claims } = input;
  const sim = accountingOf(input.nodes, input.order, []);
  const taken: (string[] | undefined)[] = [];
  const events: number[] = [];
  claims.forEach((held, i) => {
    const node = sim.get(held.nodeId);
    taken.push(node === undefined ? undefined : sim.place(node, held.claim));
    if (node !== undefined && held.end !== Number.POSITIVE_INFINITY) events.push(i);
  });
  const endOf = (i: number): number => Math.max(now, claims[i]!.end);
  events.sort((a, b) => endOf(a) - endOf(b) || a - b);
  // times[j]: a distinct end; upto[j]: how many events have ended by then.
  const times: number[] = [now];
  const upto: number[] = [0];
  events.forEach((e, k) => {
    const t = endOf(e);
    if (t !== times[times.length - 1]) {
      times.push(t);
      upto.push(k + 1);
    } else upto[upto.length - 1] = k + 1;
  });

  let released = 0;
  const moveTo = (count: number): void => {
    while (released < count) {
      const i = events[released++]!;
      sim.unplace(sim.get(claims[i]!.nodeId)!, claims[i]!.claim, taken[i]);
    }
    while (released > count) {
      const i = events[--released]!;
      const claim = claims[i]!.claim;
      taken[i] = sim.place(sim.get(claims[i]!.nodeId)!, taken[i] === undefined ? claim : { ...claim, gpus: taken[i] });
    }
  };
  const fitsAt = (j: number): Put[] | undefined => {
    moveTo(upto[j]!);
    const result = placeAll(sim, input.runs, input.groups, input.ctx, false);
    return result.puts.length > 0 || input.runs.every((r) => r.length === 0) ? result.puts : undefined;
  };

  const last = times.length - 1;
  if (fitsAt(last) === undefined) return undefined;
  // Gallop: 0, 1, 3, 7, ... until a time fits, then bisect between the last miss and it.
  let miss = -1;
  let hit = last;
  for (let step = 1, j = 0; j < last; j = j + step, step *= 2) {
    if (fitsAt(j) !== undefined) {
      hit = j;
      break;
    }
    miss = j;
  }
  while (hit - miss > 1) {
    const mid = (miss + hit) >> 1;
    if (fitsAt(mid) !== undefined) hit = mid;
    else miss = mid;
  }
  const puts = fitsAt(hit)!;

  const need = new Map<string, Amounts>();
  const ports = new Map<string, HostPort[]>();
  for (const put of puts) {
    addAmounts(amountsOf(need, put.node.view.id), put.claim.reservations);
    for (const p of put.claim.ports ?? []) ports.set(put.node.view.id, [...(ports.get(put.node.view.id) ?? []), p]);
  }
  const freed = new Map<string, Amounts>();
  const reliedOn: Claim[] = [];
  for (let k = 0; k < upto[hit]!; k++) {
    const i = events[k]!;
    if (!need.has(claims[i]!.nodeId)) continue;
    reliedOn.push(claims[i]!.claim);
    const a = amountsOf(freed, claims[i]!.nodeId);
    addAmounts(a, claims[i]!.claim.reservations);
    a.gpus += (taken[i]?.length ?? 0) - (claims[i]!.claim.reservations?.gpus ?? 0);
  }
  const holds: Hold[] = [];
  const needs: Hold[] = [];
  for (const [nodeId, a] of need) {
    const held = excess(a, freed.get(nodeId) ?? emptyAmounts());
    const onNode = ports.get(nodeId) ?? [];
    if (held !== undefined || onNode.length > 0) holds.push({ nodeId, reservations: held, ports: onNode });
    const all = excess(a, emptyAmounts());
    if (all !== undefined) needs.push({ nodeId, reservations: all, ports: [] });
  }
  return { start: times[hit]!, holds, needs, reliedOn };
}

function amountsOf(map: Map<string, Amounts>, nodeId: string): Amounts {
  let a = map.get(nodeId);
  if (a === undefined) map.set(nodeId, (a = emptyAmounts()));
  return a;
}
