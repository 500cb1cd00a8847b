/** The step function of pre-candidates and candidates (§5.2, thesis §9.6). */
import type { Message } from '../types.js';
import { becomeFollower, becomeLeaderAndAnnounce, campaign, poll } from './election.js';
import { handleAppend, handleHeartbeat, handleSnapshotChunk } from './follower.js';
import type { RaftNode } from './node.js';

/** A leader of our term appears: follow it; votes are tallied until won or lost. */
export function stepCandidate(r: RaftNode, m: Message): void {
  switch (m.type) {
    case 'append':
      becomeFollower(r, m.term, m.from);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      becomeFollower(r, m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      becomeFollower(r, m.term, m.from);
      handleSnapshotChunk(r, m);
      return;
    case 'voteResp': {
      if (m.preVote !== (r.role === 'preCandidate')) return; // an answer to an earlier round
      const result = poll(r, m.from, m.granted);
      if (result === 'won') {
        if (r.role === 'preCandidate') campaign(r, 'election', false);
        else becomeLeaderAndAnnounce(r);
      } else if (result === 'lost') {
        becomeFollower(r, r.term, null);
      }
      return;
    }
    case 'readIndex':
      r.send({ type: 'readIndexResp', from: r.id, to: m.from, term: r.term, context: m.context, index: -1 });
      return;
    case 'readIndexResp':
      r.readStates.push({ context: m.context, index: m.index });
      return;
    default:
      return; // timeoutNow, responses of a past leadership: nothing to do
  }
}
