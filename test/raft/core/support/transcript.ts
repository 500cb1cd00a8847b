/** Renders messages as one short line each, for tests that read as a protocol conversation. */
import type { Message } from '../../../../src/raft/types.js';

export function line(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type}${'preVote' in m && m.preVote ? '(pre)' : ''} t${m.term}`;
  switch (m.type) {
    case 'vote':
      return `${head} last=${m.lastLogIndex}@${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResp':
      return `${head} ${m.granted ? 'granted' : 'rejected'}`;
    case 'append':
      return `${head} prev=${m.prevLogIndex}@${m.prevLogTerm} entries=[${m.entries.map((e) => `${e.index}@${e.term}`).join(' ')}] commit=${m.commit}`;
    case 'appendResp':
      return m.success
        ? `${head} ok index=${m.index}`
        : `${head} reject index=${m.index} hint=${m.hintIndex}@${m.hintTerm}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}`;
    case 'snapshot':
      return `${head} snap=${m.meta.index}@${m.meta.term} offset=${m.offset}+${m.chunk.length}${m.done ? ' done' : ''}`;
    case 'snapshotResp':
      return `${head} received=${m.received}${m.done ? ' done' : ''}${m.reject ? ' reject' : ''}`;
    case 'readIndexResp':
      return `${head} index=${m.index}`;
    default:
      return head;
  }
}
