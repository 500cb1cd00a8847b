/**
 * Following the cluster state without being a Raft member (issue 13, 100 nodes): the state feed
 * (members serve, observers follow), presence (observers tell the leader they are alive), and
 * linearizable reads on observers (read index from the leader, wait for the feed).
 */
export { FeedCursor, type CursorStep, type FeedCursorOptions, type FollowedStateMachine } from './cursor.js';
export { chooseSource, lagVerdict, planCatchUp, rankSources, type CatchUpPlan, type LagVerdict } from './decisions.js';
export { FeedLagError, FeedProtocolError, NoLeaderError } from './errors.js';
export {
  FeedFollower,
  type FeedFollowerDeps,
  type FeedFollowerEvents,
  type FeedFollowerOptions,
} from './feed-follower.js';
export { FeedSource, type FeedSnapshot, type FeedSourceDeps, type FeedSourceOptions } from './feed-source.js';
export {
  PresenceSender,
  PresenceTracker,
  type PresenceSenderDeps,
  type PresenceSenderOptions,
  type PresenceTrackerDeps,
} from './presence.js';
export { observerRead, readIndexHandler, type ObserverReadDeps, type ReadIndexHandlerDeps } from './read-index.js';
export { EntryRing, type EntryRingOptions } from './ring.js';
export {
  FEED_PROTOCOL,
  MAX_CONF_MEMBERS,
  MAX_FRAME_ENTRIES,
  PRESENCE_PROTOCOL,
  READ_INDEX_METHOD,
  entryBytes,
  parseFeedFrame,
  parseFeedRequest,
  parsePresenceFrame,
  type EntriesFrame,
  type FeedFrame,
  type FeedRequest,
  type FeedView,
  type KeepaliveFrame,
  type PresenceFrame,
  type SnapshotChunkFrame,
} from './wire.js';
