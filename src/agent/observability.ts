/**
 * What this agent tells about the cluster: its events (derived from every applied command,
 * kept in a bounded window, streamed by `GET /v1/events`) and its Prometheus metrics (`GET
 * /metrics`: Raft and this node on every agent, the cluster on the leader).
 * @module
 */
import type { EventsApi } from '../api/event-routes.js';
import type { MetricsApi } from '../api/metrics-routes.js';
import { EventRecorder, EventWindow, streamEvents, type EventWindowOptions } from '../events/index.js';
import { registerClusterMetrics } from '../metrics/cluster-metrics.js';
import { registerNodeMetrics } from '../metrics/node-metrics.js';
import { registerRaftMetrics, type RaftMetrics, type RaftMetricsSource } from '../metrics/raft-metrics.js';
import { MetricRegistry } from '../metrics/registry.js';
import type { ClusterStateMachine } from '../state/index.js';

export interface ObservabilityDeps {
  readonly selfId: string;
  readonly state: ClusterStateMachine;
  readonly raftStatus: RaftMetricsSource['status'];
  readonly appliedIndex: () => number;
  readonly isLeader: () => boolean;
  /** Wall clock, ms. */
  readonly now: () => number;
  readonly log: { error(object: object, message: string): void };
  readonly window?: EventWindowOptions;
}

export class AgentObservability implements EventsApi, MetricsApi {
  readonly window: EventWindow;
  readonly registry = new MetricRegistry();
  readonly raft: RaftMetrics;
  readonly #recorder: EventRecorder;
  readonly #deps: ObservabilityDeps;

  constructor(deps: ObservabilityDeps) {
    this.#deps = deps;
    const { state, selfId } = deps;
    const view = () => state.view();
    this.raft = registerRaftMetrics(this.registry, {
      selfId,
      status: deps.raftStatus,
      appliedIndex: deps.appliedIndex,
      hostnameOf: (id) => state.node(id)?.hostname ?? id.slice(0, 12),
    });
    registerNodeMetrics(this.registry, { selfId, view });
    const cluster = registerClusterMetrics(this.registry, { view, isLeader: deps.isLeader });
    this.window = new EventWindow(deps.window);
    this.#recorder = new EventRecorder({
      window: this.window,
      now: deps.now,
      log: deps.log,
      onEvent: (event) => cluster.event(event),
    });
    state.observeApplied(this.#recorder);
    state.observeApplied({ applied: (change) => cluster.applied(change), restored: () => undefined });
  }

  /** The leader changed as this agent sees it: an event (local) and the leader-changes counter. */
  leaderChanged(leader: string | null, term: number): void {
    this.raft.leaderChanged();
    const name = leader === null ? null : (this.#deps.state.node(leader)?.hostname ?? null);
    this.#recorder.leaderChanged(leader, name, term, this.#deps.appliedIndex());
  }

  events: EventsApi['events'] = (query, options) =>
    streamEvents(this.window, query, { now: this.#deps.now, ...(options.signal ? { signal: options.signal } : {}) });

  metrics(): string {
    return this.registry.render();
  }
}
