/**
 * Preemption: for a pending task that does not fit, find running tasks of strictly lower priority
 * (and marked preemptible) whose stopping lets it fit, losing the least work.
 *
 * It works on a view of the cluster *after* every terminating task and every victim already
 * chosen has stopped, with the tasks waiting for them already on their nodes. A task that fits in
 * that view needs no new victim (it only waits), so the planner never preempts again while earlier
 * victims are still stopping.
 *
 * A task that reaches its time limit within the grace horizon ({@link endsWithin}: by default
 * 10 s, the stop grace period a victim gets) counts as terminating too: stopping it would free its
 * resources no sooner than waiting does, and would throw its work away. So it is never a victim, and
 * a task that fits once it has ended waits for it instead of preempting anything.
 *
 * Victims on a node are chosen by arithmetic first (CPU, memory, GPUs): every subset when the node
 * has at most 8 candidates, else cheapest first then pruned. The real filters (ports, per-node
 * limits...) then confirm on the node, taking more candidates if they still object. Sets of
 * victims are compared by work lost (age x reserved CPUs), then by time left (the soonest any of
 * them would end by its time limit: later is better, as killing it gains the preemptor more), then
 * number of victims, then their top priority.
 */
import type { Claim, NodeState } from '../accounting.js';
import { compareIds } from '../accounting.js';
import type { TaskGroup } from '../group.js';
import { placeGroup } from '../place-group.js';
import type { NodeView } from '../types.js';
import { accountingOf, type HeldClaim, type QueueAccounting } from './accounting.js';
import { claimOf, type PlaceContext, pipelineFor } from './place.js';
import type { QueuedTask, RunningTask } from './types.js';

/** Where a task will start once its victims (possibly none: only terminating tasks) have stopped. */
export interface PreemptionChoice {
  readonly task: QueuedTask;
  readonly nodeId: string;
  readonly victims: readonly RunningTask[];
}

/** Default {@link QueueOptions.preemptionGraceMs}: a task ending within it is waited for, not preempted. */
export const DEFAULT_PREEMPTION_GRACE_MS = 10_000;

/**
 * Whether `task` frees its resources within `graceMs` of `now` without being preempted: it is
 * terminating already, or reaches its time limit by then.
 *
 * @example
 * ```ts
 * endsWithin({ ...task, startedAt: 0, timeLimitMs: 3_000 }, 2_900, 10_000); // true: 0.1 s left
 * ```
 */
export function endsWithin(task: RunningTask, now: number, graceMs: number): boolean {
  return task.terminating || timeLeft(task, now) <= graceMs;
}

/** Time until `task` reaches its time limit (Infinity without one; negative when overdue). */
function timeLeft(task: RunningTask, now: number): number {
  return task.timeLimitMs > 0 ? task.startedAt + task.timeLimitMs - now : Number.POSITIVE_INFINITY;
}

interface Candidate {
  readonly task: RunningTask;
  readonly cost: number;
  /** Time until it would end by its time limit anyway. */
  readonly left: number;
  readonly claim: Claim;
  gpus: string[] | undefined;
  used: boolean;
}

interface Undo {
  readonly node: NodeState;
  readonly claim: Claim;
  readonly gpus: string[] | undefined;
  readonly victims: readonly Candidate[];
}

export class Preemptor {
  /** The cluster once terminating tasks and chosen victims are gone. */
  readonly acc: QueueAccounting;
  readonly #now: number;
  readonly #ctx: PlaceContext;
  readonly #byNode = new Map<string, Candidate[]>();
  readonly #spared: ReadonlySet<Claim>;
  /** Victim searches left in this plan (each scans every node). */
  #budget: number;

  /**
   * @param graceMs tasks that end within this long ({@link endsWithin}) are never candidates.
   * @param claims what holds resources now, minus tasks that end within `graceMs` (treated as gone).
   * @param running the running tasks (candidates are taken from them).
   * @param spared running tasks never to choose (read on every search: the set may grow).
   */
  constructor(
    nodes: readonly NodeView[],
    order: readonly string[],
    now: number,
    graceMs: number,
    claims: readonly HeldClaim[],
    running: readonly RunningTask[],
    spared: ReadonlySet<Claim>,
    ctx: PlaceContext,
    budget: number,
  ) {
    this.#now = now;
    this.#ctx = ctx;
    this.#budget = budget;
    this.#spared = spared;
    this.acc = accountingOf(nodes, order, claims);
    for (const task of running) {
      if (!task.preemptible || endsWithin(task, now, graceMs) || this.acc.get(task.nodeId) === undefined) continue;
      const cost = Math.max(0, now - task.startedAt) * (task.reservations?.cpus ?? 0);
      const left = timeLeft(task, now);
      const gpus = task.gpus === undefined ? undefined : [...task.gpus];
      const list = this.#byNode.get(task.nodeId) ?? [];
      list.push({ task, cost, left, claim: task, gpus, used: false });
      this.#byNode.set(task.nodeId, list);
    }
    for (const list of this.#byNode.values()) {
      list.sort(
        (a, b) =>
          a.cost - b.cost ||
          laterFirst(a.left, b.left) ||
          a.task.priority - b.task.priority ||
          compareIds(a.task.id, b.task.id),
      );
    }
  }

  /**
   * Find places for every task of a unit (all or none) in the view after preemption. Returns
   * undefined when some task cannot get one; then nothing is changed.
   */
  tryUnit(
    runs: readonly (readonly QueuedTask[])[],
    groups: (task: QueuedTask) => TaskGroup,
    mayPreempt: boolean,
  ): PreemptionChoice[] | undefined {
    const undo: Undo[] = [];
    const choices: PreemptionChoice[] = [];
    for (const run of runs) {
      const group = groups(run[0]!);
      for (const task of run) {
        const choice = this.#one(task, group, mayPreempt, undo);
        if (choice === undefined) {
          this.#undo(undo);
          return undefined;
        }
        choices.push(choice);
      }
    }
    return choices;
  }

  #one(task: QueuedTask, group: TaskGroup, mayPreempt: boolean, undo: Undo[]): PreemptionChoice | undefined {
    if (group.error !== undefined) return undefined;
    const pipeline = pipelineFor(this.acc, group, [task], this.#ctx);
    const claim = claimOf(task);
    // Already fits once what is stopping has stopped: wait for it, take nothing more.
    const [fits] = placeGroup(pipeline, claim);
    if (fits !== undefined) {
      undo.push({ node: fits.node, claim, gpus: fits.gpus, victims: [] });
      return { task, nodeId: fits.node.view.id, victims: [] };
    }
    if (!mayPreempt || this.#budget <= 0) return undefined;
    this.#budget -= 1;

    let chosen: { node: NodeState; victims: Candidate[]; score: Score } | undefined;
    const check = pipeline.check.bind(pipeline);
    for (const node of this.acc.nodes) {
      const all = this.#byNode.get(node.view.id);
      if (all === undefined) continue;
      const list = this.#split(node, group, all, task.priority);
      if (list === undefined) continue;
      // By arithmetic alone this node cannot beat the best so far: skip the real check.
      if (chosen !== undefined && !better(scoreOf(list[0]!), chosen.score)) continue;
      const victims = this.#victimsOn(node, list, check);
      if (victims === undefined) continue;
      const score = scoreOf(victims);
      if (chosen === undefined || better(score, chosen.score)) chosen = { node, victims, score };
    }
    if (chosen === undefined) return undefined;
    for (const v of chosen.victims) {
      this.acc.unplace(chosen.node, v.claim, v.gpus);
      v.used = true;
    }
    undo.push({ node: chosen.node, claim, gpus: this.acc.place(chosen.node, claim), victims: chosen.victims });
    return { task, nodeId: chosen.node.view.id, victims: chosen.victims.map((c) => c.task) };
  }

  /**
   * The candidates on `node` that may go for a task of `priority`, split as `[first, rest]`: the
   * set that frees enough CPU, memory and GPUs by arithmetic for the least work lost, and the others
   * cheapest first (needed only if a port or a per-node limit still objects). Undefined when
   * stopping them all would not free enough.
   */
  #split(node: NodeState, group: TaskGroup, all: readonly Candidate[], priority: number): Candidate[][] | undefined {
    const r = group.reservations;
    const total = node.view.resources;
    let cpus = total.cpus - node.cpusUsed - r.cpus;
    let memory = total.memoryBytes - node.memoryUsed - r.memoryBytes;
    let gpus = node.freeGpus.length - r.gpus;
    const first: Candidate[] = [];
    const rest: Candidate[] = [];
    const pool: Candidate[] = [];
    for (const c of all) {
      if (c.used || c.task.priority >= priority || this.#spared.has(c.task)) continue;
      pool.push(c);
      if (cpus >= 0 && memory >= 0 && gpus >= 0) {
        rest.push(c);
        continue;
      }
      first.push(c);
      cpus += c.claim.reservations?.cpus ?? 0;
      memory += c.claim.reservations?.memoryBytes ?? 0;
      gpus += c.gpus?.length ?? 0;
    }
    if (!(cpus >= 0 && memory >= 0 && gpus >= 0) || pool.length === 0) return undefined;
    if (pool.length <= EXACT_LIMIT) {
      return cheapestSubset(
        pool,
        total.cpus - node.cpusUsed - r.cpus,
        total.memoryBytes - node.memoryUsed - r.memoryBytes,
        node.freeGpus.length - r.gpus,
      );
    }
    // Drop, most expensive first, what the arithmetic says is not needed.
    const kept: Candidate[] = [];
    for (let i = first.length - 1; i >= 0; i--) {
      const c = first[i]!;
      const dc = c.claim.reservations?.cpus ?? 0;
      const dm = c.claim.reservations?.memoryBytes ?? 0;
      const dg = c.gpus?.length ?? 0;
      if (cpus >= dc && memory >= dm && gpus >= dg) {
        cpus -= dc;
        memory -= dm;
        gpus -= dg;
        rest.unshift(c);
      } else kept.push(c);
    }
    return [kept.reverse(), rest];
  }

  /**
   * Confirm the arithmetic choice `[first, rest]` with the real filters: stop `first`, then more of
   * `rest` (cheapest first) while the task still does not fit, then put back any that turned out
   * not to be needed (most expensive first). Leaves the node as it found it.
   */
  #victimsOn(node: NodeState, split: Candidate[][], check: (n: NodeState) => unknown): Candidate[] | undefined {
    const [first, rest] = split as [Candidate[], Candidate[]];
    for (const c of first) this.acc.unplace(node, c.claim, c.gpus);
    const taken = [...first];
    let fits = check(node) === undefined;
    for (let i = 0; !fits && i < rest.length; i++) {
      this.acc.unplace(node, rest[i]!.claim, rest[i]!.gpus);
      taken.push(rest[i]!);
      fits = check(node) === undefined;
    }
    const needed: Candidate[] = [];
    if (fits) {
      for (let i = taken.length - 1; i >= 0; i--) {
        const c = taken[i]!;
        this.#restore(node, c);
        if (check(node) !== undefined) {
          this.acc.unplace(node, c.claim, c.gpus);
          needed.push(c);
        }
      }
      for (const c of needed) this.#restore(node, c);
    } else {
      for (let i = taken.length - 1; i >= 0; i--) this.#restore(node, taken[i]!);
    }
    return fits ? needed.reverse() : undefined;
  }

  /** Put a candidate back on its node, with the devices it held. */
  #restore(node: NodeState, c: Candidate): void {
    c.gpus = this.acc.place(node, c.gpus === undefined ? c.claim : { ...c.claim, gpus: c.gpus });
  }

  #undo(undo: readonly Undo[]): void {
    for (let i = undo.length - 1; i >= 0; i--) {
      const u = undo[i]!;
      this.acc.unplace(u.node, u.claim, u.gpus);
      for (const v of u.victims) {
        this.#restore(u.node, v);
        v.used = false;
      }
    }
  }
}

/** Up to this many candidates on a node, victims are chosen by trying every subset. */
const EXACT_LIMIT = 8;
const SCRATCH = 1 << EXACT_LIMIT;
const sumCpus = new Float64Array(SCRATCH);
const sumMemory = new Float64Array(SCRATCH);
const sumGpus = new Float64Array(SCRATCH);
const sumCost = new Float64Array(SCRATCH);
const minLeft = new Float64Array(SCRATCH);
const maxPriority = new Float64Array(SCRATCH);

/**
 * The subset of `pool` that frees enough (the free amounts start at `cpus`, `memory`, `gpus`,
 * negative when short) and loses the least work; ties: most time left, then fewer victims, then
 * lower top priority.
 * Returns `[subset, the others]`, both in the pool's (cheapest first) order.
 */
function cheapestSubset(pool: readonly Candidate[], cpus: number, memory: number, gpus: number): Candidate[][] {
  let best = -1;
  let bestCount = 0;
  if (cpus >= 0 && memory >= 0 && gpus >= 0) best = 0;
  maxPriority[0] = Number.NEGATIVE_INFINITY;
  minLeft[0] = Number.POSITIVE_INFINITY;
  for (let mask = 1; mask < 1 << pool.length; mask++) {
    const low = mask & -mask;
    const prev = mask ^ low;
    const c = pool[31 - Math.clz32(low)]!;
    sumCpus[mask] = sumCpus[prev]! + (c.claim.reservations?.cpus ?? 0);
    sumMemory[mask] = sumMemory[prev]! + (c.claim.reservations?.memoryBytes ?? 0);
    sumGpus[mask] = sumGpus[prev]! + (c.gpus?.length ?? 0);
    sumCost[mask] = sumCost[prev]! + c.cost;
    maxPriority[mask] = Math.max(maxPriority[prev]!, c.task.priority);
    minLeft[mask] = Math.min(minLeft[prev]!, c.left);
    if (cpus + sumCpus[mask]! < 0 || memory + sumMemory[mask]! < 0 || gpus + sumGpus[mask]! < 0) continue;
    const count = popcount(mask);
    if (
      best < 0 ||
      better(
        { cost: sumCost[mask]!, left: minLeft[mask]!, count, top: maxPriority[mask]! },
        { cost: sumCost[best]!, left: minLeft[best]!, count: bestCount, top: maxPriority[best]! },
      )
    ) {
      best = mask;
      bestCount = count;
    }
  }
  const chosen: Candidate[] = [];
  const others: Candidate[] = [];
  pool.forEach((c, i) => ((best >> i) & 1 ? chosen : others).push(c));
  return [chosen, others];
}

function popcount(mask: number): number {
  let n = 0;
  for (let m = mask; m !== 0; m &= m - 1) n += 1;
  return n;
}

/** How a set of victims compares: work lost, soonest natural end, count, top priority. */
interface Score {
  readonly cost: number;
  readonly left: number;
  readonly count: number;
  readonly top: number;
}

function scoreOf(victims: readonly Candidate[]): Score {
  return {
    cost: victims.reduce((s, c) => s + c.cost, 0),
    left: Math.min(...victims.map((c) => c.left)),
    count: victims.length,
    top: Math.max(...victims.map((c) => c.task.priority)),
  };
}

/** Negative when `a` ends later than `b` (Infinity: never), so that sorting puts it first. */
function laterFirst(a: number, b: number): number {
  return a === b ? 0 : a > b ? -1 : 1;
}

/** Whether `a` is the better set to stop: less work lost, then more time left, then fewer, then lower priority. */
function better(a: Score, b: Score): boolean {
  if (a.cost !== b.cost) return a.cost < b.cost;
  if (a.left !== b.left) return a.left > b.left;
  if (a.count !== b.count) return a.count < b.count;
  return a.top < b.top;
}
