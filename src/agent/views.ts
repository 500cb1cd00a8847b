/**
 * Turn the replicated state and Raft's view into the admin API's shapes, with the plain-language
 * warnings `shoal status` shows about what the current shape of the cluster can survive.
 */
import type { MemberView, NodeView, StatusView } from '../api/types.js';
import type { MemberHealth } from '../controllers/raft-membership.js';
import type { RaftStatus } from '../raft/types.js';
import type { ClusterStateMachine } from '../state/index.js';

export function buildStatus(
  nodeId: string,
  raft: RaftStatus | null,
  state: ClusterStateMachine,
  health: readonly MemberHealth[] | null,
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

function memberViews(
  raft: RaftStatus,
  state: ClusterStateMachine,
  health: readonly MemberHealth[] | null,
): MemberView[] {
  const byId = new Map((health ?? []).map((h) => [h.id, h]));
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
      raftRole: raft.conf.voters.includes(id) ? 'voter' : raft.conf.learners.includes(id) ? 'learner' : 'none',
      leader: raft.leader === id,
      match: p ? p.match : null,
      lag: h ? h.lag : null,
      reachable: h ? h.reachable : null,
    };
  });
}

function warnings(raft: RaftStatus, members: readonly MemberView[]): string[] {
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

export function buildNodes(
  raft: RaftStatus | null,
  state: ClusterStateMachine,
  health: readonly MemberHealth[] | null,
): NodeView[] {
  const byId = new Map((health ?? []).map((h) => [h.id, h]));
  return state.nodes().map((node) => {
    const h = byId.get(node.id);
    return {
      id: node.id,
      hostname: node.hostname,
      addresses: [...node.addresses],
      labels: { ...node.labels },
      availability: node.availability,
      status: node.status,
      reachable: h ? h.reachable : null,
      raftRole: raft?.conf.voters.includes(node.id)
        ? 'voter'
        : raft?.conf.learners.includes(node.id)
          ? 'learner'
          : 'none',
      leader: raft?.leader === node.id,
      resources: {
        cpus: node.resources.cpus,
        memoryBytes: node.resources.memoryBytes,
        gpus: node.resources.gpus.length,
      },
      version: node.version,
      joinedAt: node.registeredAt,
    };
  });
}
