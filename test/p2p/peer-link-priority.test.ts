/** enqueueByPriority(): heartbeats and votes go ahead of queued log entries and snapshot chunks (issue 18 item 10). */
import { enqueueByPriority } from '../../src/p2p/peer-link.js';
import type { Message } from '../../src/raft/types.js';

const m = (type: Message['type'], n: number): Message => ({ type, from: 'a', to: 'b', term: n }) as unknown as Message;

describe('enqueueByPriority()', () => {
  it('puts a heartbeat ahead of waiting appends, behind earlier urgent messages, keeping their order', () => {
    const queue: Message[] = [];
    enqueueByPriority(queue, m('append', 1));
    enqueueByPriority(queue, m('snapshot', 2));
    enqueueByPriority(queue, m('heartbeat', 3));
    enqueueByPriority(queue, m('append', 4));
    enqueueByPriority(queue, m('voteResp', 5));
    expect(queue.map((x) => `${x.type}${x.term}`)).toEqual([
      'heartbeat3',
      'voteResp5',
      'append1',
      'snapshot2',
      'append4',
    ]);
  });
});
