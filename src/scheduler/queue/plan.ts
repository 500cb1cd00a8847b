/**
 * `planQueue()`: the batch queue as a pure function of the cluster, the running tasks and the
 * pending ones. It walks the queue in order and, for each unit (an array job's identical tasks,
 * or a whole gang): checks the namespace quota, places what fits with the scheduler's pipeline,
 * and for what does not fit decides why it waits: held for a higher job (`Priority`), stopping
 * lower-priority tasks for it (`Preempting`), part of a gang that does not fit whole (`Gang`), or
 * no room (`Resources`). Blocked units high in the queue get a backfill reservation.
 *
 * Three views of the cluster are kept in step: `now` (what runs, terminating tasks included),
 * `held` (now, plus resources held for reservations: where tasks that would outlive a reserved
 * start are placed) and, once needed, the preemptor's view after terminations.
 */
import type { Claim } from '../accounting.js';
import type { TaskGroup } from '../group.js';
import { nodeOrder } from '../order.js';
import { resolveWeights } from '../schedule.js';
import type { Placement } from '../types.js';
import { accountingOf, type HeldClaim, type QueueAccounting } from './accounting.js';
import { findReservation } from './backfill.js';
import { neverFits } from './capacity.js';
import { behindMessage, gangMessage, preemptingMessage, priorityMessage, resourcesMessage } from './messages.js';
import { buildUnits, orderQueue, type Unit, unitTasks } from './order.js';
import { FailureCache, groupOf, type PlaceContext, placeAll, placeRun, pipelineFor, type Put } from './place.js';
import { DEFAULT_PREEMPTION_GRACE_MS, endsWithin, Preemptor } from './preempt.js';
import { QuotaLedger } from './quota.js';
import type { Preemption, QueueInput, QueuedTask, QueuePlan, QueueWait, RunningTask, WaitReason } from './types.js';

/** Default {@link QueueOptions.maxReservations}. */
export const DEFAULT_MAX_RESERVATIONS = 8;
/** Victim searches per plan (each scans every node); the rest wait for the next pass. */
export const PREEMPTION_SEARCHES = 256;
/** The service id of backfill holds in the accounting (never a real service's id). */
const HOLD_SERVICE = '\u0000backfill-hold';

/**
 * Plan which pending tasks start now and where, which running tasks to preempt, and why every
 * other pending task waits. Pure and deterministic.
 *
 * @example
 * ```ts
 * const plan = planQueue({ now, nodes, running, pending });
 * // plan.placements: [{ taskId: 'train-0', nodeId: 'gpu1', gpus: ['GPU-0'] }]
 * // plan.waiting: [{ taskId: 'etl-3', reason: 'Priority',
 * //   message: 'Priority: resources held for job "train" (expected start in ~20m); a time limit under 20m would let it start now' }]
 * ```
 */
export function planQueue(input: QueueInput): QueuePlan {
  const options = input.options ?? {};
  const maxReservations = options.maxReservations ?? DEFAULT_MAX_RESERVATIONS;
  if (!Number.isInteger(maxReservations) || maxReservations < 0) {
    throw new RangeError(
      `Cannot plan the queue with maxReservations=${String(maxReservations)}: expected an integer >= 0`,
    );
  }
  const graceMs = options.preemptionGraceMs ?? DEFAULT_PREEMPTION_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw new RangeError(
      `Cannot plan the queue with preemptionGraceMs=${String(graceMs)}: expected a finite number of ms >= 0`,
    );
  }
  return new Planner(input, maxReservations, graceMs).run();
}

class Planner {
  readonly #input: QueueInput;
  readonly #now: number;
  readonly #maxReservations: number;
  readonly #backfill: boolean;
  readonly #preemption: boolean;
  readonly #graceMs: number;
  readonly #order: readonly string[];
  readonly #ctx: PlaceContext = { weights: resolveWeights(undefined), parts: {} };
  readonly #groups = new Map<QueuedTask, TaskGroup>();
  readonly #runningClaims: HeldClaim[];
  readonly #planClaims: HeldClaim[] = [];
  /** What reserved units take at their start, counted as taken for good by later reservations. */
  readonly #needClaims: HeldClaim[] = [];
  /** Backfill holds (anonymous claims in the held view; the preemptor's view has them too). */
  readonly #holdClaims: HeldClaim[] = [];
  /** Running tasks whose end a reservation relies on: preempting one would not free anything new. */
  readonly #reliedOn = new Set<Claim>();
  readonly #accNow: QueueAccounting;
  readonly #accHeld: QueueAccounting;
  readonly #ledger: QuotaLedger;
  readonly #placements: Placement[] = [];
  readonly #preemptions: Preemption[] = [];
  readonly #waits = new Map<string, QueueWait>();
  readonly #reservations: { label: string; start: number }[] = [];
  #minStart = Number.POSITIVE_INFINITY;
  /** With backfill off: the first blocked unit, which everything after it waits behind. */
  #blocker: string | undefined;
  #preemptor: Preemptor | undefined;
  /** Memo of {@link #explain}, valid while the placement count (the only change to `now`) stays. */
  #explained = { version: 0, reasons: new Map<string, string>() };
  #reservationSearches: number;
  readonly #failNow = new FailureCache();
  readonly #failHeld = new FailureCache();
  readonly #failPreempt = new FailureCache();
  readonly #failEver = new FailureCache();

  constructor(input: QueueInput, maxReservations: number, graceMs: number) {
    const options = input.options ?? {};
    this.#input = input;
    this.#now = input.now;
    this.#maxReservations = maxReservations;
    this.#reservationSearches = 2 * maxReservations + 4;
    this.#backfill = options.backfill !== false;
    this.#preemption = options.preemption !== false;
    this.#graceMs = graceMs;
    this.#order = nodeOrder(input.nodes, options.seed);
    this.#runningClaims = input.running.map((t) => ({ nodeId: t.nodeId, claim: t, end: this.#endOf(t) }));
    this.#accNow = accountingOf(input.nodes, this.#order, this.#runningClaims);
    this.#accHeld = accountingOf(input.nodes, this.#order, this.#runningClaims);
    this.#ledger = new QuotaLedger(input.quotas, input.running);
  }

  run(): QueuePlan {
    const ordered = orderQueue(this.#input);
    for (const unit of buildUnits(ordered)) this.#unit(unit);
    const waiting: QueueWait[] = [];
    for (const task of ordered) {
      const wait = this.#waits.get(task.id);
      if (wait !== undefined) waiting.push(wait);
    }
    return {
      placements: this.#placements,
      preemptions: this.#preemptions,
      waiting,
      order: ordered.map((t) => t.id),
    };
  }

  /** When a running task frees its node as far as backfill knows. */
  #endOf(t: RunningTask): number {
    if (t.terminating) return this.#now;
    return t.timeLimitMs > 0 ? Math.max(this.#now, t.startedAt + t.timeLimitMs) : Number.POSITIVE_INFINITY;
  }

  #group = (task: QueuedTask): TaskGroup => groupOf(task, this.#groups);

  #wait(tasks: readonly QueuedTask[], reason: WaitReason, message: string, expectedStart?: number): void {
    for (const t of tasks) {
      this.#waits.set(
        t.id,
        expectedStart === undefined
          ? { taskId: t.id, reason, message }
          : { taskId: t.id, reason, message, expectedStart },
      );
    }
  }

  #unit(unit: Unit): void {
    const tasks = unitTasks(unit);
    if (this.#blocker !== undefined) {
      this.#wait(tasks, 'Priority', behindMessage(this.#blocker));
      return;
    }
    const invalid = unit.runs.map((r) => this.#group(r[0]!).error).find((e) => e !== undefined);
    if (invalid !== undefined) {
      this.#wait(tasks, 'Resources', `Resources: ${invalid}`);
      return;
    }
    const admission = this.#ledger.admit(tasks);
    let runs = unit.runs;
    if (admission.allowed < tasks.length) {
      // A quota wait holds nothing: lower tasks of other namespaces go on.
      const quotaMessage = admission.message!;
      if (unit.gang !== null || admission.allowed === 0) {
        this.#wait(tasks, 'Quota', quotaMessage);
        return;
      }
      this.#wait(tasks.slice(admission.allowed), 'Quota', quotaMessage);
      runs = [tasks.slice(0, admission.allowed)];
    }
    const admitted = runs.length === 1 ? runs[0]! : runs.flat();
    // Tasks that end before every reserved start may use held resources; others may not.
    const short = admitted.every((t) => t.timeLimitMs > 0 && this.#now + t.timeLimitMs <= this.#minStart);
    const acc = short || this.#minStart === Number.POSITIVE_INFINITY ? this.#accNow : this.#accHeld;
    const fails = acc === this.#accNow ? this.#failNow : this.#failHeld;

    if (unit.gang === null) {
      const run = runs[0]!;
      const group = this.#group(run[0]!);
      const puts = fails.covers(group) ? [] : placeRun(acc, group, run, this.#ctx).puts;
      for (const put of puts) this.#commit(put, acc);
      if (puts.length === run.length) return;
      fails.add(group);
      this.#blocked(unit, [run.slice(puts.length)], acc, 0);
      return;
    }
    // Gangs are few: always try them, so a part that fits is reported as such (`Gang`).
    const result = placeAll(acc, runs, this.#groups, this.#ctx, true);
    if (result.puts.length > 0) {
      for (const put of result.puts) this.#commit(put, acc);
      return;
    }
    this.#blocked(unit, runs, acc, result.fitted);
  }

  /** Record a placement made on `from` in every other view and in the plan. */
  #commit(put: Put, from: QueueAccounting): void {
    const nodeId = put.node.view.id;
    const claim: Claim = put.gpus === undefined ? put.claim : { ...put.claim, gpus: put.gpus };
    (from === this.#accNow ? this.#accHeld : this.#accNow).mirror(nodeId, put.claim, put.gpus);
    this.#preemptor?.acc.mirror(nodeId, put.claim, put.gpus);
    const limit = put.task.timeLimitMs;
    this.#planClaims.push({ nodeId, claim, end: limit > 0 ? this.#now + limit : Number.POSITIVE_INFINITY });
    this.#placements.push(
      put.gpus === undefined ? { taskId: put.task.id, nodeId } : { taskId: put.task.id, nodeId, gpus: put.gpus },
    );
    this.#ledger.charge(put.task);
  }

  /**
   * Why `rest` (what of the unit did not fit on `acc`) waits; preempt for it or reserve for it.
   * `fitted` is how many tasks of a gang did fit before one missed.
   */
  #blocked(unit: Unit, rest: readonly (readonly QueuedTask[])[], acc: QueueAccounting, fitted: number): void {
    const gang = unit.gang !== null;
    // One task stands for an array job's rest: they share one request.
    const probe = gang ? rest : [[rest[0]![0]!]];
    const fitsNow =
      acc === this.#accHeld &&
      !probe.some((r) => this.#failNow.covers(this.#group(r[0]!))) &&
      placeAll(this.#accNow, probe, this.#groups, this.#ctx, false).puts.length > 0;
    if (fitsNow) {
      const holder = this.#reservations[0]!;
      const start = this.#reserve(unit, rest);
      const tasks = rest.flat();
      const message = priorityMessage(holder.label, holder.start, this.#now, this.#minStart - this.#now);
      this.#wait(tasks, 'Priority', message);
      if (start !== undefined) this.#wait(gang ? tasks : [tasks[0]!], 'Priority', message, start);
      return;
    }
    const remaining = this.#preempt(unit, rest);
    if (remaining.length === 0) return;
    const reason: WaitReason = gang && fitted > 0 ? 'Gang' : 'Resources';
    const total = unitTasks(unit).length;
    const missed = remaining[0]![0]!;
    const why = this.#explain(missed);
    const message = (start: number | undefined): string =>
      reason === 'Gang'
        ? gangMessage(unit.gang!, fitted, total, start, this.#now)
        : resourcesMessage(why, start, this.#now);
    const start = this.#reserve(unit, remaining);
    const tasks = remaining.flat();
    this.#wait(tasks, reason, message(undefined));
    if (start !== undefined) this.#wait(gang ? tasks : [tasks[0]!], reason, message(start), start);
  }

  /**
   * The scheduler's reason why `task` finds no node now. Memoized per request while the cluster
   * does not change: once it is full, thousands of blocked jobs share a handful of requests.
   */
  #explain(task: QueuedTask): string {
    const group = this.#group(task);
    const key = JSON.stringify([
      group.reservations,
      task.constraints,
      task.ports,
      group.maxReplicasPerNode,
      group.affinity,
      group.maxReplicasPerNode > 0 || group.affinity.length > 0 ? task.serviceId : '',
    ]);
    if (this.#explained.version !== this.#placements.length) {
      this.#explained = { version: this.#placements.length, reasons: new Map() };
    }
    let reason = this.#explained.reasons.get(key);
    if (reason === undefined) {
      // No node could hold it even empty: say so (a Compose job is deployed anyway; nodes may join).
      const never = neverFits(task.reservations ?? {}, this.#input.nodes);
      reason =
        never === null ? pipelineFor(this.#accNow, group, [task], this.#ctx).explain().reason : `never fits: ${never}`;
      this.#explained.reasons.set(key, reason);
    }
    return reason;
  }

  /**
   * Hold resources for a blocked unit (its first task, or the whole gang) when backfill is on and
   * reservations are left; with backfill off, block everything after it. Returns its expected start.
   */
  #reserve(unit: Unit, rest: readonly (readonly QueuedTask[])[]): number | undefined {
    const runs = unit.gang !== null ? rest : [[rest[0]![0]!]];
    const wanted = !this.#backfill
      ? this.#reservations.length === 0
      : this.#reservations.length < this.#maxReservations;
    let start: number | undefined;
    if (wanted && this.#reservationSearches > 0 && !runs.some((r) => this.#failEver.covers(this.#group(r[0]!)))) {
      this.#reservationSearches -= 1;
      const found = findReservation({
        now: this.#now,
        nodes: this.#input.nodes,
        order: this.#order,
        claims: [...this.#runningClaims, ...this.#planClaims, ...this.#needClaims],
        runs,
        groups: this.#groups,
        ctx: this.#ctx,
      });
      if (found === undefined) {
        if (unit.gang === null) this.#failEver.add(this.#group(runs[0]![0]!));
      } else {
        start = found.start;
        this.#reservations.push({ label: unit.label, start });
        if (this.#backfill) {
          this.#minStart = Math.min(this.#minStart, start);
          for (const hold of found.holds) {
            const claim: Claim = { serviceId: HOLD_SERVICE, reservations: hold.reservations, ports: hold.ports };
            const node = this.#accHeld.get(hold.nodeId)!;
            this.#accHeld.place(node, claim);
            this.#preemptor?.acc.mirror(hold.nodeId, claim, undefined);
            this.#holdClaims.push({ nodeId: hold.nodeId, claim, end: Number.POSITIVE_INFINITY });
          }
          for (const claim of found.reliedOn) this.#reliedOn.add(claim);
          for (const need of found.needs) {
            const claim: Claim = { serviceId: HOLD_SERVICE, reservations: need.reservations };
            this.#needClaims.push({ nodeId: need.nodeId, claim, end: Number.POSITIVE_INFINITY });
          }
        }
      }
    }
    if (!this.#backfill) this.#blocker = unit.label;
    return start;
  }

  /**
   * Try to make room by preemption for what did not fit. Returns what still has no place (all of
   * a gang, or an array job's tasks from the first that found none).
   */
  #preempt(unit: Unit, rest: readonly (readonly QueuedTask[])[]): readonly (readonly QueuedTask[])[] {
    if (!this.#preemption) return rest;
    const preemptor = this.#preemptorView();
    const record = (choices: NonNullable<ReturnType<Preemptor['tryUnit']>>): void => {
      for (const c of choices) {
        for (const v of c.victims) this.#preemptions.push({ victimTaskId: v.id, forTaskId: c.task.id });
        this.#wait([c.task], 'Preempting', preemptingMessage(c.victims.length, c.nodeId));
        this.#ledger.charge(c.task);
      }
    };
    if (unit.gang !== null) {
      const mayPreempt = rest.every((r) => r.every((t) => t.mayPreempt !== false));
      const choices = preemptor.tryUnit(rest, this.#group, mayPreempt);
      if (choices === undefined) return rest;
      record(choices);
      return [];
    }
    const run = rest[0]!;
    const group = this.#group(run[0]!);
    const mayPreempt = run[0]!.mayPreempt !== false;
    const priority = run[0]!.priority;
    for (let i = 0; i < run.length; i++) {
      if (this.#failPreempt.covers(group, mayPreempt ? priority : Number.NEGATIVE_INFINITY)) return [run.slice(i)];
      const choices = preemptor.tryUnit([[run[i]!]], this.#group, mayPreempt);
      if (choices === undefined) {
        this.#failPreempt.add(group, mayPreempt ? priority : Number.NEGATIVE_INFINITY);
        return [run.slice(i)];
      }
      record(choices);
    }
    return [];
  }

  /**
   * The preemptor's view, built on first use from what holds resources apart from tasks that end
   * within the grace horizon (terminating, or at their time limit), backfill holds included: a
   * task may only preempt where it may also start.
   */
  #preemptorView(): Preemptor {
    if (this.#preemptor === undefined) {
      const claims = [
        ...this.#runningClaims.filter((c) => !endsWithin(c.claim as RunningTask, this.#now, this.#graceMs)),
        ...this.#planClaims,
        ...this.#holdClaims,
      ];
      this.#preemptor = new Preemptor(
        this.#input.nodes,
        this.#order,
        this.#now,
        this.#graceMs,
        claims,
        this.#input.running,
        this.#reliedOn,
        this.#ctx,
        PREEMPTION_SEARCHES,
      );
    }
    return this.#preemptor;
  }
}
