/**
 * Turn the replicated state and Raft's view into the admin API's shapes, with the plain-language
 * warnings `shoal status` shows about what the current shape of the cluster can survive.
 */
import type { MemberView, NodeView, StatusView } from '../api/types.js';
import type { MemberHealth } from '../controllers/raft-membership.js';
import type { RaftStatus } from '../raft/types.js';
import type { ClusterStateMachine } from '../state/index.js';

/** What the views need of Raft's status; an observer makes one from its feed (role `observer`). */
export type RaftView = Pick<RaftStatus, 'leader' | 'term' | 'commit' | 'applied' | 'conf'> & {
  readonly role: StatusView['role'];
  readonly progress?: RaftStatus['progress'];
};

/** The leader's view of who it hears: members by Raft, observers by presence. */
export interface NodeHealth {
  readonly members: readonly MemberHealth[];
  /** When the leader last heard each observer's presence, in `now`'s clock. */
  readonly observersHeard: ReadonlyMap<string, number>;
  readonly now: number;
}

/** An observer counts as reachable while its presence (once a second) is this fresh. */
export const OBSERVER_REACHABLE_MS = 3_000;

export function buildStatus(
  nodeId: string,
  raft: RaftView | null,
  state: ClusterStateMachine,
  health: NodeHealth | null,
  targetVoters: number,
): StatusView {
  const members = raft ? memberViews(raft, state, health) : [];
  return {
    initialized: state.cluster() !== null,
    clusterId: state.cluster()?.id ?? null,
    nodeId,
    leader: raft?.leader ?? null,
    term: raft?.term ?? 0,
    commit: raft?.commit ?? 0,
    applied: raft?.applied ?? 0,
    role: raft?.role ?? 'follower',
    targetVoters,
    members,
    warnings: raft
      ? warnings(raft, members)
      : ['This agent is not part of a cluster: run `shoal init` or `shoal join`'],
  };
}

function memberViews(raft: RaftView, state: ClusterStateMachine, health: NodeHealth | null): MemberView[] {
  const byId = new Map((health?.members ?? []).map((h) => [h.id, h]));
  const progress = new Map((raft.progress ?? []).map((p) => [p.id, p]));
  const ids = [...raft.conf.voters, ...raft.conf.learners];
  for (const node of state.nodes()) if (!ids.includes(node.id)) ids.push(node.id);
  return ids.sort().map((id) => {
    const node = state.node(id);
    const h = byId.get(id);
    const p = progress.get(id);
    return {
      id,
      hostname: node?.hostname ?? '',
      addresses: node ? [...node.addresses] : [],
      raftRole: raftRole(raft, id, node !== undefined),
      leader: raft.leader === id,
      match: p ? p.match : null,
      lag: h ? h.lag : null,
      reachable: isReachable(health, id),
    };
  });
}

function raftRole(raft: RaftView | null, id: string, registered: boolean): MemberView['raftRole'] {
  if (raft?.conf.voters.includes(id)) return 'voter';
  if (raft?.conf.learners.includes(id)) return 'learner';
  return registered && raft ? 'observer' : 'none';
}

/**
 * Whether the leader hears node `id` now; null when this view is not the leader's. A Raft member
 * counts when Raft hears it or its presence (every node sends it) is fresh: a learner still being
 * caught up can be silent in Raft for seconds while it is up (seen: `node rm` went through
 * without --force for such a learner).
 */
export function isReachable(health: NodeHealth | null, id: string): boolean | null {
  if (!health) return null;
  const heard = health.observersHeard.get(id);
  const present = heard !== undefined && health.now - heard < OBSERVER_REACHABLE_MS;
  const member = health.members.find((h) => h.id === id);
  return present || member?.reachable === true;
}

function warnings(raft: RaftView, members: readonly MemberView[]): string[] {
  const out: string[] = [];
  const voters = members.filter((m) => m.raftRole === 'voter');
  const down = voters.filter((m) => m.reachable === false);
  const quorum = Math.floor(voters.length / 2) + 1;
  const tolerated = voters.length - quorum - down.length;
  if (!raft.leader)
    out.push('No leader: the cluster accepts no changes until a quorum of voters can talk to each other');
  if (voters.length === 1)
    out.push(
      '1 voter: losing it stops all changes to the cluster (running workloads keep running); add nodes to tolerate failures',
    );
  else if (voters.length === 2)
    out.push('2 voters: losing either one stops all changes; a third node makes the cluster tolerate one failure');
  for (const m of down) out.push(`voter ${m.id} (${m.hostname || 'unknown host'}) is unreachable`);
  if (voters.length >= 3 && tolerated <= 0 && raft.leader)
    out.push(
      `one more voter failure stops all changes (${voters.length - down.length} of ${voters.length} voters up, quorum ${quorum})`,
    );
  for (const m of members)
    if (m.raftRole === 'learner' && m.lag !== null && m.lag > 64)
      out.push(`learner ${m.id} is catching up (${m.lag} entries behind)`);
  return out;
}

export function buildNodes(raft: RaftView | null, state: ClusterStateMachine, health: NodeHealth | null): NodeView[] {
  return state.nodes().map((node) => {
    return {
      id: node.id,
      hostname: node.hostname,
      addresses: [...node.addresses],
      labels: { ...node.labels },
      availability: node.availability,
      status: node.status,
      reachable: isReachable(health, node.id),
      raftRole: raftRole(raft, node.id, true),
      leader: raft?.leader === node.id,
      resources: {
        cpus: node.resources.cpus,
        memoryBytes: node.resources.memoryBytes,
        gpus: node.resources.gpus.length,
      },
      version: node.version,
      joinedAt: node.registeredAt,
      ...(node.message === undefined ? {} : { message: node.message }),
    };
  });
}
