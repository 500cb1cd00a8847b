/**
 * The leader's autoscaler (issue 16): it keeps the samples nodes send it (`autoscale.stats`) in a
 * bounded window (src/autoscale/stats-window.ts) and, every sync period of each autoscaled
 * service, decides with HPA's algorithm (src/autoscale/autoscaler.ts) and proposes the change as a
 * `service.autoscale` command, the decision's reason recorded on the service. A leader-only part:
 * the leader scope starts it with the controllers and stops it (forgetting its window and
 * memory) when leadership moves.
 *
 * What it leaves alone:
 * - a rollout: a service whose live tasks run more than one version is not decided (the rollout
 *   controller replaces its tasks until they run one; a paused or canary rollout holds it);
 * - a manual `service scale` (or a redeploy that changed the count): the new count is the base,
 *   as if the autoscaler had just decided it; its memory is reset, so a scale-down from there
 *   waits a whole down window and a scale-up follows the load at the next sync;
 * - a node failure: replacements keep the replica count (they are the replicated controller's),
 *   and the replaced tasks' missing samples count against any change.
 *
 * Scale to zero (`min: 0`): nodes' meshes report their connections per service
 * (`autoscale.activity`); a service without any for `idle` goes to zero, and a node holding a
 * connection for it asks to wake it (`autoscale.wake`: one scale 0→1 however many ask). The HPA
 * never takes such a service below 1 itself, and a woken service stays up at least `idle`.
 *
 * Requests per second (`target_rps`): the same activity frames carry each node's cumulative
 * request count per service; RequestRates (src/autoscale/request-rate.ts) turns them into a rate
 * over the sync period.
 *
 * @module
 */
import type { Logger } from 'pino';
import {
  ActivityBook,
  decide,
  idleDecision,
  parseActivityFrame,
  parseStatsFrame,
  parseWakeRequest,
  policyOf,
  RequestRates,
  SingleFlight,
  StatsWindow,
  type AutoscalePolicy,
  type AutoscalerMemory,
  type WakeReceipt,
} from '../autoscale/index.js';
import type { Clock, TimerHandle } from '../raft/driver/index.js';
import type { AutoscaleMetric } from '../state/autoscale-commands.js';
import type { ClusterStateMachine } from '../state/index.js';
import { isTerminal, type ServiceRecord } from '../state/workloads.js';
import type { CommandWriter } from './writes.js';

const TICK_MS = 250;

export interface AutoscaleLoopDeps {
  readonly state: Pick<ClusterStateMachine, 'services' | 'task' | 'service' | 'tasksOfService' | 'view'>;
  readonly writer: Pick<CommandWriter, 'submit'>;
  readonly clock: Clock;
  readonly log: Logger;
}

/** What the leader concluded at a service's last sync (for `service ls`; leader memory only). */
export interface AutoscaleLive {
  readonly at: number;
  readonly reason: string;
  readonly metrics: readonly AutoscaleMetric[];
}

/** What the leader answers a node that sent samples. */
export interface StatsReceipt {
  readonly accepted: number;
  /** Samples of tasks that are not the sender's, or not of an autoscaled service. */
  readonly ignored: number;
}

export class AutoscaleLoop {
  readonly #deps: AutoscaleLoopDeps;
  readonly #window = new StatsWindow();
  /** Per service: the autoscaler's memory and the replicas it last left the service at. */
  readonly #memory = new Map<string, { memory: AutoscalerMemory; replicas: number }>();
  readonly #lastSync = new Map<string, number>();
  readonly #live = new Map<string, AutoscaleLive>();
  readonly #activity = new ActivityBook();
  readonly #requests = new RequestRates();
  /** Services with an `rps` target, as of the last pass: only their request counts are kept. */
  #rpsServices = new Set<string>();
  readonly #wakes = new SingleFlight<string, WakeReceipt>();
  /** The replicas of each scale-to-zero service at its last sync (a way back from zero is activity). */
  readonly #replicasSeen = new Map<string, number>();
  #timer: TimerHandle | null = null;
  #passing = false;

  constructor(deps: AutoscaleLoopDeps) {
    this.#deps = deps;
  }

  /** Whether it runs (this node leads). */
  get running(): boolean {
    return this.#timer !== null;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = this.#deps.clock.setInterval(() => void this.pass(), TICK_MS);
  }

  stop(): void {
    if (this.#timer) this.#deps.clock.clearInterval(this.#timer);
    this.#timer = null;
    this.#window.clear();
    this.#memory.clear();
    this.#lastSync.clear();
    this.#live.clear();
    this.#activity.clear();
    this.#requests.clear();
    this.#rpsServices = new Set();
    this.#replicasSeen.clear();
  }

  /**
   * A node's connections and request counts per service (the RPC handler of
   * `autoscale.activity`), stamped with this leader's clock.
   * @throws when this node does not lead, or the frame is malformed (code `bad_request`).
   */
  receiveActivity(peerId: string, payload: unknown): void {
    this.#leading('autoscale.activity');
    const now = this.#deps.clock.now();
    const { services } = parseActivityFrame(payload);
    this.#activity.report(peerId, now, services);
    // Every report counts (an empty one says the node saw no request); only rps services are kept.
    this.#requests.report(
      peerId,
      now,
      services.filter((s) => this.#rpsServices.has(s.serviceId)),
    );
  }

  /**
   * Node `peerId` holds a connection for a service (the RPC handler of `autoscale.wake`): scale it
   * 0→1 with the reason "cold start: connection on <node>". Concurrent wakes share one proposal;
   * a service already above zero is left as it is. Either way the wake counts as activity, so the
   * service stays up at least `idle`. Resolves once the scale-up is committed.
   * @throws when this node does not lead, the request is malformed or the service does not scale to zero.
   */
  async wake(peerId: string, payload: unknown): Promise<WakeReceipt> {
    this.#leading('autoscale.wake');
    const { serviceId } = parseWakeRequest(payload);
    const service = this.#deps.state.service(serviceId);
    const policy = service === undefined ? null : policyOf(service.spec);
    if (service === undefined || policy?.min !== 0)
      throw Object.assign(new Error(`autoscale.wake: service ${serviceId} does not scale to zero (min: 0)`), {
        code: 'bad_request',
      });
    this.#activity.touch(serviceId, this.#deps.clock.now());
    if (service.replicas > 0) return { replicas: service.replicas };
    return this.#wakes.run(serviceId, async () => {
      const reason = `cold start: connection on ${peerId}`;
      try {
        await this.#deps.writer.submit(
          { type: 'service.autoscale', serviceId, from: 0, replicas: 1, reason, metrics: [] },
          { deadlineMs: 5_000 },
        );
        this.#deps.log.info({ service: serviceId, from: 0, to: 1, reason }, `autoscale ${serviceId}: ${reason}`);
      } catch (error) {
        // Refused: someone scaled it meanwhile; the state says how many it has now.
        const now = this.#deps.state.service(serviceId)?.replicas ?? 0;
        if (now === 0) throw error;
      }
      this.#forget(serviceId);
      this.#activity.touch(serviceId, this.#deps.clock.now());
      this.#live.set(serviceId, { at: this.#deps.clock.now(), reason, metrics: [] });
      return { replicas: this.#deps.state.service(serviceId)?.replicas ?? 1 };
    });
  }

  #leading(method: string): void {
    if (!this.running)
      throw Object.assign(new Error(`${method}: this node does not lead: send to the leader`), { code: 'not_leader' });
  }

  /**
   * Samples from node `peerId` (the RPC handler). Each must name a task of that node of an
   * autoscaled service; others are ignored. Stamped with this leader's clock.
   * @throws when this node does not lead, or the frame is malformed (code `bad_request`).
   */
  receive(peerId: string, payload: unknown): StatsReceipt {
    if (!this.running)
      throw Object.assign(new Error('autoscale.stats: this node does not lead: send to the leader'), {
        code: 'not_leader',
      });
    const frame = parseStatsFrame(payload);
    const now = this.#deps.clock.now();
    let accepted = 0;
    for (const s of frame.samples) {
      const task = this.#deps.state.task(s.taskId);
      const service = task?.nodeId === peerId ? this.#deps.state.service(task.serviceId) : undefined;
      if (!task || !service || policyOf(service.spec) === null) continue;
      this.#window.add(service.id, task.id, {
        at: now,
        cpuCores: s.cpuCores,
        memoryBytes: s.memoryBytes,
        ...(s.metric === undefined ? {} : { metric: s.metric }),
      });
      accepted++;
    }
    return { accepted, ignored: frame.samples.length - accepted };
  }

  /**
   * What each autoscaled service's last sync concluded.
   * @throws when this node does not lead (code `not_leader`).
   */
  status(): Record<string, AutoscaleLive> {
    if (!this.running)
      throw Object.assign(new Error('autoscale.status: this node does not lead: ask the leader'), {
        code: 'not_leader',
      });
    return Object.fromEntries(this.#live);
  }

  /** Decide every autoscaled service whose sync period has passed. Exposed for tests. */
  async pass(): Promise<void> {
    if (this.#passing || !this.running) return;
    this.#passing = true;
    try {
      const now = this.#deps.clock.now();
      const autoscaled = new Set<string>();
      const rps = new Set<string>();
      for (const service of this.#deps.state.services()) {
        const policy = policyOf(service.spec);
        if (!policy) continue;
        autoscaled.add(service.id);
        if (policy.targets.some((t) => t.kind === 'rps')) rps.add(service.id);
        if (now - (this.#lastSync.get(service.id) ?? -Infinity) < policy.syncPeriodMs) continue;
        this.#lastSync.set(service.id, now);
        await this.#sync(service, policy, now);
        if (!this.running) return;
      }
      this.#window.retainServices(autoscaled);
      this.#activity.retain(autoscaled);
      this.#rpsServices = rps;
      this.#requests.retain(rps, now);
      for (const id of [...this.#replicasSeen.keys()]) if (!autoscaled.has(id)) this.#replicasSeen.delete(id);
      for (const id of [...this.#memory.keys()]) if (!autoscaled.has(id)) this.#forget(id);
      for (const id of [...this.#live.keys()]) if (!autoscaled.has(id)) this.#live.delete(id);
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'autoscale pass failed; retrying at the next sync');
    } finally {
      this.#passing = false;
    }
  }

  async #sync(service: ServiceRecord, policy: AutoscalePolicy, now: number): Promise<void> {
    const live = this.#deps.state
      .tasksOfService(service.id)
      .filter((t) => !isTerminal(t.state) && t.desiredState === 'running');
    this.#window.retain(service.id, new Set(live.map((t) => t.id)));
    // Tasks of two versions: a rollout (or its canary, or its pause) is replacing them.
    if (new Set(live.map((t) => t.serviceVersion)).size > 1) {
      this.#deps.log.debug({ service: service.id }, 'autoscale: skipped while a rollout replaces its tasks');
      return;
    }
    if (policy.min === 0 && (await this.#scaleToZero(service, policy, now))) return;
    // The HPA part never takes a scale-to-zero service below 1: idleness alone does.
    const hpaPolicy: AutoscalePolicy = policy.min === 0 ? { ...policy, min: 1 } : policy;
    const last = this.#memory.get(service.id);
    // Scaled by someone else since (a manual scale, a redeploy): that count is the new base.
    const memory = last !== undefined && last.replicas === service.replicas ? last.memory : null;
    const samples = this.#window.samples(service.id);
    const tasks = live.map((t) => ({ taskId: t.id, ready: t.state === 'running', samples: samples.get(t.id) ?? [] }));
    const pending = policy.targets.find((t) => t.kind === 'pending');
    const pendingJobs = pending ? this.#pendingJobs(pending.namespace) : null;
    const rate = policy.targets.some((t) => t.kind === 'rps')
      ? this.#requests.rate(service.id, now, policy.syncPeriodMs)
      : null;
    const { decision, memory: next } = decide({
      now,
      policy: hpaPolicy,
      current: service.replicas,
      tasks,
      memory,
      pendingJobs,
      requestsPerSecond: rate?.perSecond ?? null,
    });
    this.#memory.set(service.id, { memory: next, replicas: decision.replicas });
    const metrics: AutoscaleMetric[] = decision.metrics.map((m) => ({
      kind: m.kind,
      value: m.value === null ? null : Math.round(m.value * 10) / 10,
      target: m.target,
    }));
    this.#live.set(service.id, { at: now, reason: decision.reason, metrics });
    if (decision.replicas === decision.from) {
      this.#deps.log.debug({ service: service.id, reason: decision.reason }, 'autoscale: no change');
      return;
    }
    const fields = { service: service.id, from: decision.from, to: decision.replicas, reason: decision.reason };
    try {
      await this.#deps.writer.submit(
        {
          type: 'service.autoscale',
          serviceId: service.id,
          from: decision.from,
          replicas: decision.replicas,
          reason: decision.reason.slice(0, 500),
          metrics,
        },
        { deadlineMs: Math.min(5_000, policy.syncPeriodMs) },
      );
      this.#deps.log.info(fields, `autoscale ${service.id}: ${decision.reason}`);
    } catch (error) {
      // Refused (scaled meanwhile) or lost: decide afresh from the state at the next sync.
      this.#forget(service.id);
      this.#deps.log.info({ ...fields, err: error }, `autoscale ${service.id}: decision not applied`);
    }
  }

  /** Scale to zero's part of a sync; true when it decided (the HPA is then not asked). */
  async #scaleToZero(service: ServiceRecord, policy: AutoscalePolicy, now: number): Promise<boolean> {
    // Back from zero (a wake, a manual scale): its idle time starts now.
    if (this.#replicasSeen.get(service.id) === 0 && service.replicas > 0) this.#activity.touch(service.id, now);
    this.#replicasSeen.set(service.id, service.replicas);
    const idle = idleDecision({
      now,
      policy,
      current: service.replicas,
      lastActivityAt: this.#activity.lastActivity(service.id, now),
      meshReporting: this.#activity.meshReporting(now),
    });
    if (idle === null) return false;
    this.#live.set(service.id, { at: now, reason: idle.reason, metrics: [] });
    if (idle.replicas === service.replicas) return true;
    const fields = { service: service.id, from: service.replicas, to: idle.replicas, reason: idle.reason };
    try {
      await this.#deps.writer.submit(
        {
          type: 'service.autoscale',
          serviceId: service.id,
          from: service.replicas,
          replicas: 0,
          reason: idle.reason,
          metrics: [],
        },
        { deadlineMs: Math.min(5_000, policy.syncPeriodMs) },
      );
      this.#forget(service.id);
      this.#replicasSeen.set(service.id, 0);
      this.#deps.log.info(fields, `autoscale ${service.id}: ${idle.reason}`);
    } catch (error) {
      this.#deps.log.info({ ...fields, err: error }, `autoscale ${service.id}: decision not applied`);
    }
    return true;
  }

  /** Jobs waiting in a namespace's queue (O(jobs), once per sync of a service that scales on it). */
  #pendingJobs(namespace: string): number {
    let count = 0;
    for (const job of Object.values(this.#deps.state.view().jobs)) {
      if (job.namespace === namespace && job.state === 'PENDING') count++;
    }
    return count;
  }

  #forget(serviceId: string): void {
    this.#memory.delete(serviceId);
  }
}
