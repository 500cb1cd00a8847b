/**
 * Protocol conversations as transcripts (etcd's testdata scripts, inline): what a reader of
 * the Raft paper expects to see on the wire, in order.
 */
import { entriesWithTerms, newCore } from './support/helpers.js';
import { Network } from './support/network.js';
import { line } from './support/transcript.js';

describe('conversations', () => {
  it('campaign() with pre-vote: a pre-vote round, a vote round, then the Noop', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: true });
    net.elect('a');
    expect(net.delivered.map(line)).toEqual([
      'a->b vote(pre) t1 last=0@0',
      'a->c vote(pre) t1 last=0@0',
      'b->a voteResp(pre) t1 granted',
      'c->a voteResp(pre) t1 granted',
      'a->b vote t1 last=0@0',
      'a->c vote t1 last=0@0',
      'b->a voteResp t1 granted',
      'c->a voteResp t1 granted',
      'a->b append t1 prev=0@0 entries=[1@1] commit=0',
      'a->c append t1 prev=0@0 entries=[1@1] commit=0',
      'b->a appendResp t1 ok index=1',
      'c->a appendResp t1 ok index=1',
      'a->b append t1 prev=1@1 entries=[] commit=1',
      'a->c append t1 prev=1@1 entries=[] commit=1',
      'b->a appendResp t1 ok index=1',
      'c->a appendResp t1 ok index=1',
    ]);
  });

  it('a follower with a divergent tail: one probe rejected with a hint, then the repair', () => {
    const ids = ['a', 'b'];
    const net = new Network(ids, { preVote: false, checkQuorum: false });
    const logs: Record<string, number[]> = { a: [1, 3, 3], b: [1, 2, 2, 2, 2] };
    for (const id of ids) {
      net.members.set(id, { ...net.member(id), core: newCore(id, ids, { terms: logs[id]!, term: 3, commit: 1 }) });
      net.member(id).storage.entries = entriesWithTerms(logs[id]!);
    }
    net.core('a').campaign();
    net.settle();
    expect(net.delivered.map(line)).toEqual([
      'a->b vote t4 last=3@3',
      'b->a voteResp t4 granted',
      'a->b append t4 prev=3@3 entries=[4@4] commit=1',
      'b->a appendResp t4 reject index=3 hint=2@2',
      'a->b append t4 prev=1@1 entries=[2@3 3@3 4@4] commit=1',
      'b->a appendResp t4 ok index=4',
      'a->b append t4 prev=4@4 entries=[] commit=4',
      'b->a appendResp t4 ok index=4',
    ]);
  });
});
