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
import { metricSum } from '../autoscale/prometheus-text.js';
import { PROCESS_ID_PREFIX } from '../runtime/process/process-driver.js';
import type { AutoscaleMetricSource as MetricSource, ServiceSpec } from '../stack/spec.js';
import { scrapeText } from './scrape.js';

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
  /** The text at a task's metrics URL (`x-shoal.autoscale.metric`): scrape.ts by default. */
  readonly scrape?: (url: string) => Promise<string>;
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
    const due: { container: ObservedContainer; taskId: string; lastAt: number; metric: MetricSource | null }[] = [];
    const listed = new Set<string>();
    for (const c of this.#deps.containers()) {
      if (c.status !== 'running' || c.taskId === null) continue;
      const target = this.#targetOf(c.taskId);
      if (target === null) continue;
      listed.add(c.id);
      const lastAt = this.#last.get(c.id)?.at ?? -Infinity;
      if (now - lastAt >= target.intervalMs - this.#tickMs / 2)
        due.push({ container: c, taskId: c.taskId, lastAt, metric: target.metric });
    }
    for (const id of [...this.#last.keys()]) if (!listed.has(id)) this.#last.delete(id);
    // The longest waiting first: with more due than a round takes, every task still gets its turn.
    due.sort((a, b) => a.lastAt - b.lastAt);
    const batch = due.slice(0, this.#maxPerRound);
    if (batch.length === 0) return [];
    const started = performance.now();
    const cpu = process.cpuUsage();
    const read = await Promise.all(
      batch.map(async ({ container, taskId, metric }) => {
        const [usage, scraped] = await Promise.all([
          this.#deps.liveUsage(container.id).catch(() => null),
          metric === null ? undefined : this.#scrape(container, metric),
        ]);
        return { id: container.id, taskId, usage, scraped, at: this.#deps.clock.now() };
      }),
    );
    const spent = process.cpuUsage(cpu);
    this.#cost = {
      readings: this.#cost.readings + batch.length,
      wallMs: this.#cost.wallMs + (performance.now() - started),
      cpuMs: this.#cost.cpuMs + (spent.user + spent.system) / 1000,
    };
    const samples: StatsSample[] = [];
    for (const { id, taskId, usage, scraped, at } of read) {
      if (usage === null) {
        // The driver measures nothing here (no cgroup): the interval still holds, the metric alone goes.
        this.#last.set(id, { cpuMs: NaN, at });
        if (scraped !== undefined && scraped !== null)
          samples.push({ taskId, cpuCores: null, memoryBytes: null, metric: scraped });
        continue;
      }
      const last = this.#last.get(id);
      this.#last.set(id, { cpuMs: usage.cpuMs, at });
      const cpuCores =
        last !== undefined && at > last.at && usage.cpuMs >= last.cpuMs
          ? (usage.cpuMs - last.cpuMs) / (at - last.at)
          : null;
      samples.push({
        taskId,
        cpuCores,
        memoryBytes: usage.memoryBytes,
        ...(scraped === undefined ? {} : { metric: scraped }),
      });
    }
    return samples;
  }

  /** How often to sample a task and what to scrape, or `null` when its service is not autoscaled. */
  #targetOf(taskId: string): { intervalMs: number; metric: MetricSource | null } | null {
    const task = this.#deps.state.task(taskId);
    const service = task && this.#deps.state.service(task.serviceId);
    const policy = service ? policyOf(service.spec) : null;
    if (!service || !policy) return null;
    const intervalMs = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(policy.syncPeriodMs / 3)));
    const metric = service.spec.kind === 'replicated' ? (service.spec.autoscale?.metric ?? null) : null;
    return { intervalMs, metric };
  }

  /**
   * The task's metric: the sum of its series at `http://<address>:<port><path>`, where the address
   * is the container's on its network, or this host for a host process. `null` when it cannot be
   * read (no address, an error, no such series): the leader then counts the task unmeasured.
   */
  async #scrape(container: ObservedContainer, source: MetricSource): Promise<number | null> {
    const host = container.address ?? (container.id.startsWith(PROCESS_ID_PREFIX) ? '127.0.0.1' : null);
    if (host === null) return null;
    try {
      const text = await (this.#deps.scrape ?? scrapeText)(`http://${host}:${source.port}${source.path}`);
      return metricSum(text, source.name);
    } catch (error) {
      this.#deps.log.debug({ err: error, container: container.id }, 'autoscale: cannot scrape the task metric');
      return null;
    }
  }
}
