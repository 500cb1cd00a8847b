/**
 * This agent's Raft metrics: term, commit and applied index, leader changes, proposal and WAL
 * sync latency, and (on the leader) each peer's lag in entries. Read from Raft's status at
 * scrape time; the latencies are observed where they happen (the writer, the storage wrapper).
 * @module
 */
import type { RaftStatus } from '../raft/types.js';
import { LATENCY_BUCKETS_S, type MetricRegistry } from './registry.js';

/** What the Raft metrics read at scrape time. */
export interface RaftMetricsSource {
  /** Raft's status on a member; null on an observer or before joining. */
  readonly status: () => Pick<RaftStatus, 'term' | 'commit' | 'applied' | 'lastIndex' | 'leader' | 'progress'> | null;
  /** The index this agent's state reflects (members and observers). */
  readonly appliedIndex: () => number;
  /** A node's hostname, for the lag series. */
  readonly hostnameOf: (nodeId: string) => string;
  readonly selfId: string;
}

/** Where the latencies and leader changes are reported. */
export interface RaftMetrics {
  leaderChanged(): void;
  proposed(seconds: number): void;
  walSynced(seconds: number): void;
}

export function registerRaftMetrics(registry: MetricRegistry, source: RaftMetricsSource): RaftMetrics {
  const term = registry.gauge('shoal_raft_term', 'Current Raft term as this node knows it.');
  const commit = registry.gauge('shoal_raft_commit_index', 'Highest log index known committed.');
  const applied = registry.gauge('shoal_raft_applied_index', "Highest log index applied to this node's state.");
  const isLeader = registry.gauge('shoal_raft_leader', '1 when this node is the Raft leader, else 0.');
  const lag = registry.gauge(
    'shoal_raft_peer_lag_entries',
    "Entries a peer is behind the leader's last index (leader only).",
    {
      labelNames: ['peer', 'hostname'],
      maxSeries: 64,
    },
  );
  const changes = registry.counter('shoal_raft_leader_changes_total', 'Times this node saw the leader change.');
  const proposals = registry.histogram(
    'shoal_raft_proposal_duration_seconds',
    'Time from proposing a command on the leader to applying it there.',
    LATENCY_BUCKETS_S,
  );
  const walSync = registry.histogram(
    'shoal_raft_wal_sync_duration_seconds',
    "Time to write and fsync one Ready's entries and hard state to the WAL.",
    LATENCY_BUCKETS_S,
  );
  registry.onCollect(() => {
    const status = source.status();
    applied.set(status?.applied ?? source.appliedIndex());
    term.set(status?.term ?? 0);
    commit.set(status?.commit ?? source.appliedIndex());
    isLeader.set(status?.leader === source.selfId ? 1 : 0);
    lag.reset();
    for (const peer of status?.progress ?? []) {
      if (peer.id === source.selfId) continue;
      lag.set(Math.max(0, status!.lastIndex - peer.match), { peer: peer.id, hostname: source.hostnameOf(peer.id) });
    }
  });
  return {
    leaderChanged: () => changes.inc(),
    proposed: (seconds) => proposals.observe(seconds),
    walSynced: (seconds) => walSync.observe(seconds),
  };
}
