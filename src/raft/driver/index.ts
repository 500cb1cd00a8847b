export { RaftNode, type RaftNodeOptions, type RaftNodeEvents } from './raft-node.js';
export { realClock, type Clock, type TimerHandle } from './clock.js';
export { applyCommittedConfChange } from './applied-conf.js';
export { coalesceMessages, DEFAULT_MERGED_APPEND_BYTES } from './coalesce.js';
