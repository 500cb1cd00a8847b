/**
 * The state feed a Raft member serves to observers (src/follow/feed-source.ts), tied to one Raft
 * node: every committed batch the node applies goes into the feed's ring, a snapshot the node
 * restores restarts it. Started with the Raft node, stopped with it.
 */
import type { Logger } from 'pino';
import { FeedSource } from '../follow/index.js';
import type { P2PHost } from '../p2p/index.js';
import type { Clock, RaftNode } from '../raft/driver/index.js';
import type { Entry } from '../raft/types.js';

export interface MemberFeedDeps {
  readonly host: Pick<P2PHost, 'handle' | 'unhandle'>;
  readonly raft: RaftNode;
  /**
   * The index the local state reflects: the Raft node's applied index, or more right after this
   * node was an observer (its state machine is then ahead of the new Raft node; cluster-store.ts).
   */
  readonly appliedIndex: () => number;
  /** The state machine's snapshot, taken at `appliedIndex()`. */
  readonly snapshot: () => Uint8Array;
  readonly clock: Clock;
  readonly log: Logger;
}

/** A started feed source for one Raft node; `stop` before the Raft node stops. */
export interface MemberFeed {
  readonly source: FeedSource;
  stop(): Promise<void>;
}

/** Serve the feed from `raft` (call right after `raft.start()`). */
export async function startMemberFeed(deps: MemberFeedDeps): Promise<MemberFeed> {
  const { raft } = deps;
  const source = new FeedSource({
    host: deps.host,
    snapshot: () => ({ index: deps.appliedIndex(), term: raft.status().term, data: deps.snapshot() }),
    leader: () => raft.leader,
    conf: () => raft.appliedConf,
    clock: deps.clock,
    logger: deps.log.child({ component: 'feed' }),
  });
  await source.start();
  source.onSnapshotRestored(deps.appliedIndex());
  const onApplied = (entries: readonly Entry[]): void => source.onApplied(entries);
  const onRestore = (index: number): void => source.onSnapshotRestored(index);
  raft.on('entries:applied', onApplied);
  raft.on('snapshot:restore', onRestore);
  return {
    source,
    async stop() {
      raft.off('entries:applied', onApplied);
      raft.off('snapshot:restore', onRestore);
      await source.stop();
    },
  };
}
