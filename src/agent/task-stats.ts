/**
 * Each node's half of autoscaling (issue 16): sample the CPU and memory of this node's tasks of
 * autoscaled services and send them to the leader directly, over RPC (`autoscale.stats`), never
 * through the Raft log. Only tasks of autoscaled services are sampled, each every
 * clamp(sync period / 3, 1 s, 5 s) (5 s at HPA's 15 s sync), at most `maxPerRound` a round, so the
 * cost is bounded however many tasks the node runs. CPU is a rate: the CPU time between two
 * readings of the same container over the time between them; the first reading gives memory only.
 *
 * A frame that cannot be delivered (no leader, a leader change) is dropped: the leader then sees
 * those tasks unmeasured, which holds their service's replicas (missing measurements count
 * against a change), and the next round sends fresh ones.
 *
 * @module
 */
import type { Logger } from 'pino';
import { policyOf, type StatsFrame, type StatsSample } from '../autoscale/index.js';
import type { Clock, TimerHandle } from '../raft/driver/index.js';
import type { LiveUsage, ObservedContainer } from '../runtime/index.js';
import type { ServiceSpec } from '../stack/spec.js';

export interface TaskStatsDeps {
  /** This node's containers as its runtime last observed them (empty before it runs). */
  readonly containers: () => readonly ObservedContainer[];
  /** The driver's live usage of one container; `null`: not measurable. */
  readonly liveUsage: (containerId: string) => Promise<LiveUsage | null>;
  /** Which service a task is of, and its spec (the cluster state: ClusterStateMachine). */
  readonly state: {
    task(id: string): { readonly serviceId: string } | undefined;
    service(id: string): { readonly spec: ServiceSpec } | undefined;
  };
  readonly leader: () => string | null;
  /** Delivers a frame to the leader (RPC; or this node's own receiver when it leads). */
  readonly send: (leader: string, frame: StatsFrame) => Promise<void>;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface TaskStatsOptions {
  /** How often a round looks for due samples. Default 1 s. */
  readonly tickMs?: number;
  /** Readings started in one round at most. Default 32. */
  readonly maxPerRound?: number;
}

const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 5_000;

interface Reading {
  readonly cpuMs: number;
  readonly at: number;
}

/** What sampling has cost so far (for the logs and the measurement in docs/ARCHITECTURE.md). */
export interface SamplingCost {
  readonly readings: number;
  /** Wall time of the rounds' readings, summed (they run concurrently within a round). */
  readonly wallMs: number;
  /** This process's CPU time during the rounds (the agent's share of the cost). */
  readonly cpuMs: number;
}

export class TaskStatsSampler {
  readonly #deps: TaskStatsDeps;
  readonly #tickMs: number;
  readonly #maxPerRound: number;
  readonly #last = new Map<string, Reading>();
  #timer: TimerHandle | null = null;
  #running = false;
  #cost = { readings: 0, wallMs: 0, cpuMs: 0 };

  constructor(deps: TaskStatsDeps, options: TaskStatsOptions = {}) {
    this.#deps = deps;
    this.#tickMs = options.tickMs ?? 1_000;
    this.#maxPerRound = options.maxPerRound ?? 32;
  }

  get cost(): SamplingCost {
    return { ...this.#cost };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = this.#deps.clock.setInterval(() => void this.round(), this.#tickMs);
  }

  stop(): void {
    if (this.#timer) this.#deps.clock.clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One round: read the due containers, send what was measured. Exposed for tests. */
  async round(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const samples = await this.#sample();
      const leader = this.#deps.leader();
      if (samples.length === 0 || leader === null) return;
      await this.#deps.send(leader, { v: 1, samples });
    } catch (error) {
      this.#deps.log.debug({ err: error }, 'autoscale: cannot send task samples to the leader; dropped');
    } finally {
      this.#running = false;
    }
  }

  async #sample(): Promise<StatsSample[]> {
    const now = this.#deps.clock.now();
    const due: { container: ObservedContainer; taskId: string; lastAt: number }[] = [];
    const listed = new Set<string>();
    for (const c of this.#deps.containers()) {
      if (c.status !== 'running' || c.taskId === null) continue;
      const interval = this.#intervalOf(c.taskId);
      if (interval === null) continue;
      listed.add(c.id);
      const lastAt = this.#last.get(c.id)?.at ?? -Infinity;
      if (now - lastAt >= interval - this.#tickMs / 2) due.push({ container: c, taskId: c.taskId, lastAt });
    }
    for (const id of [...this.#last.keys()]) if (!listed.has(id)) this.#last.delete(id);
    // The longest waiting first: with more due than a round takes, every task still gets its turn.
    due.sort((a, b) => a.lastAt - b.lastAt);
    const batch = due.slice(0, this.#maxPerRound);
    if (batch.length === 0) return [];
    const started = performance.now();
    const cpu = process.cpuUsage();
    const read = await Promise.all(
      batch.map(async ({ container, taskId }) => {
        const usage = await this.#deps.liveUsage(container.id).catch(() => null);
        return { id: container.id, taskId, usage, at: this.#deps.clock.now() };
      }),
    );
    const spent = process.cpuUsage(cpu);
    this.#cost = {
      readings: this.#cost.readings + batch.length,
      wallMs: this.#cost.wallMs + (performance.now() - started),
      cpuMs: this.#cost.cpuMs + (spent.user + spent.system) / 1000,
    };
    const samples: StatsSample[] = [];
    for (const { id, taskId, usage, at } of read) {
      if (usage === null) continue;
      const last = this.#last.get(id);
      this.#last.set(id, { cpuMs: usage.cpuMs, at });
      const cpuCores =
        last !== undefined && at > last.at && usage.cpuMs >= last.cpuMs
          ? (usage.cpuMs - last.cpuMs) / (at - last.at)
          : null;
      samples.push({ taskId, cpuCores, memoryBytes: usage.memoryBytes });
    }
    return samples;
  }

  /** How often to sample a task, or `null` when its service is not autoscaled. */
  #intervalOf(taskId: string): number | null {
    const task = this.#deps.state.task(taskId);
    const service = task && this.#deps.state.service(task.serviceId);
    const policy = service ? policyOf(service.spec) : null;
    if (!policy) return null;
    return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(policy.syncPeriodMs / 3)));
  }
}
