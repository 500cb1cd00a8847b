/**
 * The leader's recent measurements of each autoscaled service's tasks: in memory only (never in
 * the Raft log), bounded three ways: samples older than `keepMs` go, a task keeps at most
 * `maxSamplesPerTask`, and the window holds at most `maxTasks` tasks (a sample of one more task
 * is dropped, and counted). Lost on a leader change: the new leader's autoscaler then sees
 * unmeasured tasks until nodes send it theirs, which holds the replicas (missing measurements
 * count against a change).
 *
 * @module
 */
import type { TaskSample } from './replica-calc.js';

export interface StatsWindowOptions {
  /** Default 5 min. */
  readonly keepMs?: number;
  /** Default 64 (5 min of samples every 5 s). */
  readonly maxSamplesPerTask?: number;
  /** Default 20,000. */
  readonly maxTasks?: number;
}

/**
 * @example
 * ```ts
 * const window = new StatsWindow();
 * window.add('web_api', 'a1b2', { at: now, cpuCores: 0.9, memoryBytes: null });
 * window.samples('web_api').get('a1b2'); // [{ at, cpuCores: 0.9, memoryBytes: null }]
 * ```
 */
export class StatsWindow {
  readonly #keepMs: number;
  readonly #maxSamplesPerTask: number;
  readonly #maxTasks: number;
  /** service → task → samples, oldest first. */
  readonly #services = new Map<string, Map<string, TaskSample[]>>();
  #tasks = 0;
  #dropped = 0;

  constructor(options: StatsWindowOptions = {}) {
    this.#keepMs = options.keepMs ?? 300_000;
    this.#maxSamplesPerTask = options.maxSamplesPerTask ?? 64;
    this.#maxTasks = options.maxTasks ?? 20_000;
  }

  /** Tasks held now. */
  get tasks(): number {
    return this.#tasks;
  }

  /** Samples dropped because the window was full. */
  get dropped(): number {
    return this.#dropped;
  }

  add(serviceId: string, taskId: string, sample: TaskSample): void {
    let tasks = this.#services.get(serviceId);
    let samples = tasks?.get(taskId);
    if (samples === undefined) {
      if (this.#tasks >= this.#maxTasks) {
        this.#dropped++;
        return;
      }
      if (tasks === undefined) this.#services.set(serviceId, (tasks = new Map()));
      tasks.set(taskId, (samples = []));
      this.#tasks++;
    }
    samples.push(sample);
    const horizon = sample.at - this.#keepMs;
    let old = 0;
    while (old < samples.length && samples[old]!.at < horizon) old++;
    const excess = Math.max(old, samples.length - this.#maxSamplesPerTask);
    if (excess > 0) samples.splice(0, excess);
  }

  /** A service's tasks and their samples (empty when none was measured). */
  samples(serviceId: string): ReadonlyMap<string, readonly TaskSample[]> {
    return this.#services.get(serviceId) ?? new Map();
  }

  /** Keep only these tasks of a service (the live ones); forget the service when none is left. */
  retain(serviceId: string, live: ReadonlySet<string>): void {
    const tasks = this.#services.get(serviceId);
    if (!tasks) return;
    for (const id of [...tasks.keys()]) {
      if (live.has(id)) continue;
      tasks.delete(id);
      this.#tasks--;
    }
    if (tasks.size === 0) this.#services.delete(serviceId);
  }

  /** Forget every service not in `keep` (removed, or no longer autoscaled). */
  retainServices(keep: ReadonlySet<string>): void {
    for (const [id, tasks] of [...this.#services]) {
      if (keep.has(id)) continue;
      this.#tasks -= tasks.size;
      this.#services.delete(id);
    }
  }

  clear(): void {
    this.#services.clear();
    this.#tasks = 0;
  }
}
