/**
 * The autoscaler's two parts in an agent (issue 16), made and wired here so that agent.ts only
 * places them: the leader's {@link AutoscaleLoop} (a leader-scope task) with its RPC method
 * `autoscale.stats`, and every node's {@link TaskStatsSampler}, which sends to whoever leads (to
 * its own loop, without RPC, when that is this node).
 *
 * @module
 */
import type { Logger } from 'pino';
import {
  ACTIVITY_METHOD,
  STATS_METHOD,
  WAKE_METHOD,
  type ActivityFrame,
  type StatsFrame,
  type WakeReceipt,
} from '../autoscale/index.js';
import type { RpcService } from '../p2p/index.js';
import type { Clock } from '../raft/driver/index.js';
import { AutoscaleLoop } from './autoscale-loop.js';
import { parseLiveStatus, type AutoscaleLiveMap } from './autoscale-view.js';
import type { ClusterStore } from './cluster-store.js';
import type { NodeWorkloads } from './node-workloads.js';
import { TaskStatsSampler } from './task-stats.js';

export interface AutoscaleParts {
  readonly loop: AutoscaleLoop;
  readonly sampler: TaskStatsSampler;
  /** What the leader's last syncs concluded (for `service ls`); null when it cannot be asked. */
  live(): Promise<AutoscaleLiveMap>;
  /** The mesh's line to the leader for scale to zero (mesh-node.ts). */
  readonly meshLink: MeshAutoscaleLink;
}

/** How a node's mesh reports its connections and wakes a service at zero (to whoever leads). */
export interface MeshAutoscaleLink {
  report(frame: ActivityFrame): Promise<void>;
  /** Resolves once the leader committed the wake (or the service was already up). */
  wake(serviceId: string, options: { readonly signal?: AbortSignal }): Promise<WakeReceipt>;
}

const STATUS_METHOD = 'autoscale.status';

export interface AutoscalePartsDeps {
  readonly selfId: string;
  readonly rpc: RpcService;
  readonly store: Pick<ClusterStore, 'state' | 'writer' | 'leader'>;
  /** This node's runtime (made after these parts: read only once the agent runs). */
  readonly workloads: () => Pick<NodeWorkloads, 'observed' | 'liveUsage'>;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Make both parts and register `autoscale.stats` (call before RPC listens). */
export function autoscaleParts(deps: AutoscalePartsDeps): AutoscaleParts {
  const log = deps.log.child({ component: 'autoscale' });
  const loop = new AutoscaleLoop({ state: deps.store.state, writer: deps.store.writer, clock: deps.clock, log });
  deps.rpc.handle(STATS_METHOD, (payload, { peerId }) => loop.receive(peerId, payload));
  deps.rpc.handle(STATUS_METHOD, () => loop.status());
  deps.rpc.handle(ACTIVITY_METHOD, (payload, { peerId }) => loop.receiveActivity(peerId, payload));
  deps.rpc.handle(WAKE_METHOD, (payload, { peerId }) => loop.wake(peerId, payload));
  const live = async (): Promise<AutoscaleLiveMap> => {
    const leader = deps.store.leader;
    if (leader === null) return null;
    if (leader === deps.selfId) return loop.running ? loop.status() : null;
    try {
      return parseLiveStatus(await deps.rpc.call(leader, STATUS_METHOD, null, { timeoutMs: 1_000 }));
    } catch {
      return null; // the view then shows the last decision only
    }
  };
  const send = async (leader: string, frame: StatsFrame): Promise<void> => {
    if (leader === deps.selfId) loop.receive(deps.selfId, frame);
    else await deps.rpc.call(leader, STATS_METHOD, frame, { timeoutMs: 2_000 });
  };
  const sampler = new TaskStatsSampler({
    containers: () => deps.workloads().observed(),
    liveUsage: (id) => deps.workloads().liveUsage(id),
    state: deps.store.state,
    leader: () => deps.store.leader,
    send,
    clock: deps.clock,
    log,
  });
  const toLeader = (): string => {
    const leader = deps.store.leader;
    if (leader === null) throw new Error('no leader to tell: the cluster is electing one');
    return leader;
  };
  const meshLink: MeshAutoscaleLink = {
    report: async (frame) => {
      const leader = toLeader();
      if (leader === deps.selfId) loop.receiveActivity(deps.selfId, frame);
      else await deps.rpc.call(leader, ACTIVITY_METHOD, frame, { timeoutMs: 2_000 });
    },
    wake: async (serviceId, options) => {
      const leader = toLeader();
      const request = { v: 1, serviceId };
      if (leader === deps.selfId) return loop.wake(deps.selfId, request);
      const answer = await deps.rpc.call(leader, WAKE_METHOD, request, { timeoutMs: 10_000, ...options });
      const replicas = (answer as { replicas?: unknown } | null)?.replicas;
      return { replicas: typeof replicas === 'number' ? replicas : 0 };
    },
  };
  return { loop, sampler, live, meshLink };
}
